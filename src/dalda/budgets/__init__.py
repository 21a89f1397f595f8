"""Budget rules by name (``plan.budget``): how the plan shares its synthetic images among the real ones.

``uniform`` is the paper's (``plan.images_per_real`` each); ``adaptive`` gives the classes the real-only
reference finds hard more, at the same total. Adding a rule is one module implementing :class:`BudgetRule` plus
one ``BUDGETS.register`` call.
"""

from dalda.budgets.adaptive import ADAPTIVE, AdaptiveSettings
from dalda.budgets.spec import BudgetRule, per_image, spread
from dalda.budgets.uniform import UNIFORM
from dalda.registry import Registry

BUDGETS = Registry[BudgetRule]("budget rule", setting="plan.budget", group="dalda.budgets")
for _rule in (UNIFORM, ADAPTIVE):
    BUDGETS.register(_rule.name, _rule)

__all__ = ["BUDGETS", "AdaptiveSettings", "BudgetRule", "per_image", "spread"]
