"""IDR (Image Data Resource) submission files: the model, a writer, a reader and a checker.

Plain Python without Django, so the package can be used from a task, a command or a test:
``write_study`` turns an ``IdrStudy`` into the folder IDR asks for, ``check_study_folder``
reports what IDR's curators and import tools would refuse, and ``read_study`` reads a study
folder back into the model.
"""

from repositories.idr.checker import CheckReport, Finding, check_study_folder
from repositories.idr.model import IdrStudy
from repositories.idr.reader import IdrReadError, read_study
from repositories.idr.writer import IdrWriteError, WrittenStudy, write_study

__all__ = [
    "CheckReport",
    "Finding",
    "IdrReadError",
    "IdrStudy",
    "IdrWriteError",
    "WrittenStudy",
    "check_study_folder",
    "read_study",
    "write_study",
]
