"""Zenodo (InvenioRDM) records: metadata dataclasses, their rules and JSON, and an API client.

Plain Python: the only Django contact is ``client_from_settings``, which reads
FAIRLIGHT_ZENODO_URL and FAIRLIGHT_ZENODO_TOKEN.
"""

from repositories.zenodo.client import RemoteFile, ZenodoClient, ZenodoRecord, client_from_settings
from repositories.zenodo.errors import (
    FieldError,
    Problem,
    ZenodoChecksumError,
    ZenodoConfigurationError,
    ZenodoError,
    ZenodoInvalid,
)
from repositories.zenodo.metadata import (
    MAX_FILES,
    MAX_RECORD_BYTES,
    Access,
    Affiliation,
    Creator,
    Embargo,
    FileToUpload,
    Funding,
    RecordMetadata,
    RelatedIdentifier,
    access_problems,
    file_problems,
    metadata_problems,
    record_json,
)

__all__ = [
    "MAX_FILES",
    "MAX_RECORD_BYTES",
    "Access",
    "Affiliation",
    "Creator",
    "Embargo",
    "FieldError",
    "FileToUpload",
    "Funding",
    "Problem",
    "RecordMetadata",
    "RelatedIdentifier",
    "RemoteFile",
    "ZenodoChecksumError",
    "ZenodoClient",
    "ZenodoConfigurationError",
    "ZenodoError",
    "ZenodoInvalid",
    "ZenodoRecord",
    "access_problems",
    "client_from_settings",
    "file_problems",
    "metadata_problems",
    "record_json",
]
