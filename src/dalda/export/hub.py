"""Uploading an export to a Hub dataset repository.

The upload is the export folder's card and Parquet files as they are on disk, in one commit (``create_commit``):
what a user loads from the Hub is byte for byte what ``load_dataset(OUT)`` loads locally. Creating the
repository tolerates one that exists and uploading the same files again is harmless, so a push that failed
half-way (network, token) is retried by running the same command again. The token comes from
``huggingface-cli login`` or ``HF_TOKEN``, never from a file dalda writes.
"""

from __future__ import annotations

from pathlib import Path


def uploaded_files(out: Path) -> list[Path]:
    """The files of the export in ``out`` that make the Hub dataset: the card and the Parquet files."""
    return [out / "README.md", *sorted((out / "data").glob("*.parquet"))]


class PushError(RuntimeError):
    """The upload failed; the message names the repo, the cause and how to retry."""


def upload(out: Path, repo: str) -> None:
    """Push the dataset in ``out`` (card and Parquet files) to the Hub dataset ``repo``, creating it if needed."""
    import huggingface_hub as hub  # imported here so that starting dalda stays cheap

    api = hub.HfApi()
    try:
        api.create_repo(repo, repo_type="dataset", exist_ok=True)
        operations = [
            hub.CommitOperationAdd(path_in_repo=path.relative_to(out).as_posix(), path_or_fileobj=str(path))
            for path in uploaded_files(out)
        ]
        api.create_commit(repo, operations, commit_message="dalda export", repo_type="dataset")
    except Exception as error:  # network, token, permissions: all mean "fix and push again"
        first_line = (str(error).strip().splitlines() or [""])[0]
        raise PushError(
            f"push of {out} to the Hub dataset {repo} failed ({type(error).__name__}: {first_line}); the export is "
            "complete: run the same command again to retry the push"
        ) from error
