"""``tracking.backend=mlflow``: an MLflow run per dalda run, written with MLflow's own client (``MlflowClient``).

The store is the user's ``MLFLOW_TRACKING_URI`` when set, else a local one in ``tracking.dir``: ``mlflow.db``
(SQLite, MLflow's recommended local store; its file store is deprecated) with the artifacts in ``artifacts/``
(``mlflow ui --backend-store-uri sqlite:///RUN/tracking/mlflow.db``). The run joins the experiment
``tracking.project`` and is named after the run directory. Its id is kept in the run directory
(``TrackerPlace.ids``), so every later stage logs into the same run; an id the current store does not hold
(another tracking URI) starts a new run there. The URI itself is never written: it can hold a password.

What lands where: the metrics under their tags; each stage's config as ``config/<stage>-<n>.yaml`` and, flattened,
as parameters (MLflow's parameters cannot change, so a field keeps the value it was first logged with; the YAML
files show every stage's); the sample grid as ``<tag>.png``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from dalda.extras import require
from dalda.ownership import flat_fields
from dalda.settings import EntrySettings, NoSettings
from dalda.trackers.spec import TrackerPlace, TrackerWriter

PARAM_NAME = re.compile(r"^[\w\-. /]+$")
"""The parameter names MLflow accepts (letters, digits, ``_ - . /`` and spaces)."""
PARAMS_PER_CALL = 100
"""MLflow's limit on the parameters of one ``log_batch``."""


def artifact_name(tag: str) -> str:
    return re.sub(r"[^\w\-.]+", "_", tag)


class MlflowWriter:
    def __init__(self, client: Any, run_id: str, max_param_length: int) -> None:
        self._client = client
        self._run_id = run_id
        self._max_param_length = max_param_length

    def log_config(self, yaml_text: str, values: Mapping[str, Any], stage: str, times_run: int) -> None:
        from mlflow.entities import Param

        self._client.log_text(self._run_id, yaml_text, f"config/{stage}-{times_run}.yaml")
        logged = self._client.get_run(self._run_id).data.params
        new = [
            Param(name, text)
            for name, value in flat_fields(dict(values)).items()
            if name not in logged and PARAM_NAME.match(name) and len(text := str(value)) <= self._max_param_length
        ]
        for start in range(0, len(new), PARAMS_PER_CALL):
            self._client.log_batch(self._run_id, params=new[start : start + PARAMS_PER_CALL])

    def log_scalar(self, tag: str, value: float, step: int) -> None:
        self._client.log_metric(self._run_id, tag, value, step=step)

    def log_image(self, tag: str, image: np.ndarray, step: int) -> None:
        self._client.log_image(self._run_id, image, artifact_file=f"{artifact_name(tag)}.png")

    def close(self) -> None:
        self._client.set_terminated(self._run_id)  # a later stage reopens it: MLflow logs into finished runs


@dataclass(frozen=True)
class MlflowBackend:
    name: str = "mlflow"
    settings_model: type[NoSettings] = NoSettings

    def open(self, place: TrackerPlace, settings: EntrySettings) -> TrackerWriter:
        require("mlflow", "tracking", "tracking.backend=mlflow")
        from mlflow import MlflowClient
        from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH

        user_uri = os.environ.get("MLFLOW_TRACKING_URI")
        if user_uri:
            client = MlflowClient(tracking_uri=user_uri)
            artifacts = None  # the server's own artifact store
        else:
            for module in ("sqlalchemy", "alembic"):  # MLflow's local store needs them; mlflow-skinny lacks them
                require(module, "tracking", "tracking.backend=mlflow (its local store)")
            place.folder.mkdir(parents=True, exist_ok=True)
            client = MlflowClient(tracking_uri=f"sqlite:///{place.folder.resolve() / 'mlflow.db'}")
            artifacts = (place.folder.resolve() / "artifacts").as_uri()
        run_id = self._resumed(client, place.remembered_id(self.name)) or self._created(client, place, artifacts)
        place.remember_id(self.name, run_id)
        return MlflowWriter(client, run_id, MAX_PARAM_VAL_LENGTH)

    @staticmethod
    def _resumed(client: Any, run_id: str | None) -> str | None:
        from mlflow.exceptions import MlflowException

        if run_id is None:
            return None
        try:
            run = client.get_run(run_id)
        except MlflowException:
            return None  # not in this store (the tracking URI changed since): a new run there
        return run_id if run.info.lifecycle_stage == "active" else None

    @staticmethod
    def _created(client: Any, place: TrackerPlace, artifacts: str | None) -> str:
        experiment = client.get_experiment_by_name(place.project)
        if experiment is not None:
            experiment_id = experiment.experiment_id
        else:
            experiment_id = client.create_experiment(place.project, artifact_location=artifacts)
        return client.create_run(experiment_id, run_name=place.run_name).info.run_id


MLFLOW = MlflowBackend()
