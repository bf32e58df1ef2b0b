"""Header-only inspection of microscopy files, independent of Django.

``inspect_path`` turns a file (or an OME-Zarr folder) into an ``ImageRecord``
or raises ``InspectionError`` with a message a person understands. Pixel data
are never read; structural checks (does the image data fit inside the file?)
use only offsets from the headers.
"""

from metadata.imaging.errors import InspectionError
from metadata.imaging.inspect import inspect_path
from metadata.imaging.records import ImageRecord
from metadata.imaging.units import ScanUnit, walk_units

__all__ = ["ImageRecord", "InspectionError", "ScanUnit", "inspect_path", "walk_units"]
