"""The studies folder: the files autoaccel writes beside a study's storage, and their names.

``studies/<study>/`` holds the recommendation, the trained weights the deploy stage
measures, and the reports written to files. Whoever reads or writes one asks a
:class:`StudyFolder` where it goes.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from autoaccel import defaults
from autoaccel.errors import StudyError
from autoaccel.recommend import FILE_NAME
from autoaccel.study._storage import MAX_STUDY_NAME

# Formats a terminal cannot show go to a file beside the recommendation.
REPORT_FILES = {"html": "report.html", "markdown": "report.md"}
# The markdown report keeps its plots in a folder named after it: report.md, report_files/.
REPORT_PLOTS = "report_files"


@dataclasses.dataclass(frozen=True)
class StudyFolder:
    """``root/<study>/``: where autoaccel's own files of one study live.

    A study's name comes from the storage, which other tools share: a name that is not one
    plain folder name (``../x``, ``a/b``) names no folder, and asking for its path is a
    :class:`StudyError`, so nothing is read or written outside ``root``.
    """

    study: str
    root: Path = defaults.STUDIES_DIR

    @property
    def is_folder_name(self) -> bool:
        """Whether the study's name is one plain folder name (no separator, no control
        character, not ``.`` or ``..``, not too long), so it can name its folder."""
        return (
            self.study not in ("", ".", "..")
            and len(os.fsencode(self.study)) <= MAX_STUDY_NAME
            and self.study.isprintable()
            and not {"/", "\\"} & set(self.study)
        )

    @property
    def path(self) -> Path:
        if not self.is_folder_name:
            raise StudyError(
                f"the study name {self.study!r} is not one plain folder name, so no folder in "
                f"{self.root} holds its files (autoaccel tune gives studies plain names)."
            )
        return self.root / self.study

    @property
    def recommendation(self) -> Path:
        return self.path / FILE_NAME

    def weights(self, key: str) -> Path:
        """The trained weights for the deploy stage, ``key`` naming how they were trained."""
        return self.path / f"weights-{key}.pt"

    def report(self, format: str) -> Path | None:
        """Where a report in ``format`` goes by default; None: standard output."""
        name = REPORT_FILES.get(format)
        return self.path / name if name else None

    def own_files(self) -> list[Path]:
        """The files in the folder that autoaccel wrote (a user's own files are not)."""
        if not self.is_folder_name or not self.path.is_dir():
            return []
        folder = self.path
        names = [FILE_NAME, *REPORT_FILES.values()]
        files = [folder / name for name in names if (folder / name).is_file()]
        files += sorted(folder.glob("weights-*.pt"))
        plots = folder / REPORT_PLOTS
        if plots.is_dir():
            files += sorted(p for p in plots.glob("*.png") if p.is_file())
        return files

    def own_folders(self) -> list[Path]:
        """Folders autoaccel made, innermost first: removed only once they are empty."""
        return [self.path / REPORT_PLOTS, self.path] if self.is_folder_name else []
