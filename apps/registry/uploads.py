"""Cap uploads while they stream in, before anything is parsed or stored."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

TOO_LARGE_FLAG = "signet_upload_too_large"


class SizeLimitUploadHandler(FileUploadHandler):
    """Stop reading once the files of a request pass ``SIGNET_MAX_UPLOAD_BYTES``; the view answers 413.

    The count is per request, not per file: many small files must not add up past the limit.
    """

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.received = 0

    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, boundary: Any, encoding: Any = None
    ) -> None:
        # A body that declares more than the limit (plus room for the form's own fields) is refused unread.
        if content_length > settings.SIGNET_MAX_UPLOAD_BYTES + 1024 * 1024:
            setattr(self.request, TOO_LARGE_FLAG, True)
            raise StopUpload(connection_reset=False)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > settings.SIGNET_MAX_UPLOAD_BYTES:
            setattr(self.request, TOO_LARGE_FLAG, True)
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def upload_too_large(request: Any) -> bool:
    return bool(
        getattr(request, TOO_LARGE_FLAG, False) or getattr(getattr(request, "_request", None), TOO_LARGE_FLAG, False)
    )


def too_large_message() -> str:
    limit = settings.SIGNET_MAX_UPLOAD_BYTES
    return f"The file is larger than the limit of {limit / 1024 / 1024:.0f} MB."
