"""Reading a folder (or one file) of SVS value sets, all checked before anything is written."""

from __future__ import annotations

from pathlib import Path

from .svs import SvsError, SvsValueSet, parse_file

PATTERN = "JDV_*.xml"


class ImportRejected(Exception):
    """One or more files cannot be imported; ``errors`` are French messages (file, line)."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


def files_to_import(path: Path | str) -> list[Path]:
    """A folder → its ``JDV_*.xml`` files (sorted); a file → itself."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.glob(PATTERN) if p.is_file())
        if not files:
            raise ImportRejected([f"{path} : aucun fichier {PATTERN} dans ce dossier."])
        return files
    if path.is_file():
        return [path]
    raise ImportRejected([f"{path} : fichier ou dossier introuvable."])


def read_value_sets(path: Path | str) -> list[SvsValueSet]:
    """Parse every file; raise ImportRejected listing every problem found, if any."""
    errors: list[str] = []
    value_sets: list[SvsValueSet] = []
    by_name: dict[str, Path] = {}
    for file in files_to_import(path):
        try:
            value_set = parse_file(file)
        except SvsError as error:
            errors.append(str(error))
            continue
        if value_set.name in by_name:
            errors.append(
                f"{file.name} : le jeu de valeurs {value_set.name} figure déjà dans "
                f"{by_name[value_set.name].name}."
            )
            continue
        by_name[value_set.name] = file
        value_sets.append(value_set)
    if errors:
        raise ImportRejected(errors)
    return value_sets
