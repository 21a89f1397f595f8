"""The generation plan: every synthetic image to make, decided before any is made."""
