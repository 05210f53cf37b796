"""Cap uploads while they stream in, before anything is parsed or stored."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

TOO_LARGE_FLAG = "signet_upload_too_large"


class SizeLimitUploadHandler(FileUploadHandler):
    """Stop reading a file once it passes ``SIGNET_MAX_UPLOAD_BYTES``; the view then answers 413."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

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
