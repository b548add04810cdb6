"""`lutra run --server URL --key si_...`: the same command against a remote Lutra over its REST API
(upload, progress over SSE, download). Busy (429/503) or unreachable: one more try after Retry-After,
then exit 3."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from app.console.common import (
    BAD_INPUT,
    DONE,
    FAILED,
    UNAVAILABLE,
    CommandError,
    Inputs,
    batch_folder,
    place_outputs,
    report_batch,
)
from app.console.progress import Reporter

MAX_RETRY_AFTER_S = 120
_BUSY = {429, 503}


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    return str(body.get("error") or f"HTTP {response.status_code}") if isinstance(body, dict) else str(body)


def _error_for(response: httpx.Response) -> CommandError:
    if response.status_code in _BUSY:
        return CommandError(f"server busy: {_message(response)} (HTTP {response.status_code})", UNAVAILABLE)
    if response.status_code < 500 and response.status_code != 422:
        return CommandError(_message(response), BAD_INPUT)
    return CommandError(_message(response), FAILED)


class Remote:
    def __init__(self, url: str, key: str | None) -> None:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.url = url.rstrip("/")
        # Uploads and downloads may take long: no read limit, but connecting must not hang.
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=httpx.Timeout(30.0, read=None))

    def close(self) -> None:
        self.http.close()

    def send(
        self, method: str, path: str, files: Callable[[ExitStack], Any] | None = None, **kw: Any
    ) -> httpx.Response:
        """One request; on 429/503 or a connection failure, waits (Retry-After) and tries once more."""
        for attempt in (1, 2):
            with ExitStack() as stack:
                try:
                    response = self.http.request(method, path, files=files(stack) if files else None, **kw)
                    response.read()
                except httpx.TransportError as exc:
                    if attempt == 2:
                        raise CommandError(f"cannot reach {self.url}: {exc}", UNAVAILABLE) from exc
                    time.sleep(2)
                    continue
            if response.status_code not in _BUSY or attempt == 2:
                return response
            retry = response.headers.get("retry-after", "")
            time.sleep(min(int(retry), MAX_RETRY_AFTER_S) if retry.isdigit() else 2)
        raise AssertionError("unreachable")

    def checked(self, method: str, path: str, **kw: Any) -> httpx.Response:
        response = self.send(method, path, **kw)
        if response.status_code >= 400:
            raise _error_for(response)
        return response

    # -- the catalog ---------------------------------------------------------------------------

    def catalog(self) -> list[dict[str, Any]]:
        return list(self.checked("GET", "/api/v1/tools").json()["tools"])

    def tool(self, name: str) -> dict[str, Any]:
        wanted = name.replace("/", "_")
        for tool in self.catalog():
            if name == tool["id"] or wanted == f"{tool['section']}_{tool['id']}":
                return tool
        raise CommandError(f"unknown tool {name!r} on {self.url}; `lutra tools --server ...` lists them")

    # -- running --------------------------------------------------------------------------------

    def _progress(self, job_id: str, reporter: Reporter) -> dict[str, Any]:
        """Follows the job's SSE stream to its end; returns the final event."""
        for event in self._events(job_id):
            status = event.get("status")
            if status == "completed":
                return event
            if status in ("failed", "canceled"):
                raise CommandError(str(event.get("error") or status), FAILED)
            reporter.update(float(event.get("progress") or 0), event.get("message"))
        raise CommandError("the server ended the progress stream early", UNAVAILABLE)

    def _events(self, job_id: str) -> Iterator[dict[str, Any]]:
        try:
            with self.http.stream("GET", f"/api/v1/jobs/{job_id}/progress") as stream:
                if stream.status_code >= 400:
                    stream.read()
                    raise _error_for(stream)
                for line in stream.iter_lines():
                    if line.startswith("data:"):
                        yield json.loads(line[5:])
        except httpx.TransportError as exc:
            raise CommandError(f"lost the connection to {self.url}: {exc}", UNAVAILABLE) from exc

    def _download(self, urls: list[str], folder: Path) -> list[Path]:
        paths = []
        for url in urls:
            target = folder / Path(unquote(urlsplit(url).path)).name
            target.write_bytes(self.checked("GET", url).content)
            paths.append(target)
        return paths

    def run(
        self,
        tool: dict[str, Any],
        values: dict[str, Any],
        inputs: Inputs | None,
        output: str | None,
        *,
        batch: bool,
        as_json: bool,
        path: str | None = None,
        batch_path: str | None = None,
        form_field: str = "settings",
        parts: dict[str, Path] | None = None,
    ) -> int:
        endpoint = path or tool["endpoint"]
        files = inputs.files if inputs else []
        data = {form_field: json.dumps(values)}

        def upload(stack: ExitStack, field: str) -> list[tuple[str, tuple[str, Any]]]:
            named = [(field, p) for p in files] + list((parts or {}).items())
            return [(name, (p.name, stack.enter_context(p.open("rb")))) for name, p in named]

        label = tool.get("id", "pipeline")
        if batch:
            target = batch_path or endpoint.rstrip("/") + "/batch"
            return self._batch(target, data, lambda s: upload(s, "files"), label, output, as_json)
        if files:
            response = self.checked("POST", endpoint, data=data, files=lambda s: upload(s, "file"))
        else:
            response = self.checked("POST", endpoint, json=values)
        body = response.json()
        if response.status_code == 202:
            with Reporter(label, show=not as_json) as reporter:
                body = self._progress(body["jobId"], reporter).get("result") or {}
        urls = [d["downloadUrl"] for d in body.get("downloads", [])] or (
            [body["downloadUrl"]] if body.get("downloadUrl") else []
        )
        work = Path(tempfile.mkdtemp(prefix="lutra-remote-"))
        try:
            placed = place_outputs(self._download(urls, work), output) if urls else []
        finally:
            shutil.rmtree(work, ignore_errors=True)
        if as_json:
            print(json.dumps(body, indent=2))
        else:
            print("\n".join(str(p) for p in placed) if placed else json.dumps(body, indent=2))
        return DONE

    def _batch(
        self,
        endpoint: str,
        data: dict[str, str],
        files: Callable[[ExitStack], Any],
        label: str,
        output: str | None,
        as_json: bool,
    ) -> int:
        response = self.checked("POST", endpoint, data=data, files=files)
        folder = batch_folder(output, label)
        with tempfile.TemporaryFile() as spool:
            spool.write(response.content)
            with zipfile.ZipFile(spool) as archive:
                for entry in archive.infolist():
                    name = Path(entry.filename).name  # the server names them; still never leave the folder
                    with archive.open(entry) as src, (folder / name).open("wb") as dst:
                        shutil.copyfileobj(src, dst)
        results = json.loads(unquote(response.headers.get("x-file-results", "{}")))
        errors = json.loads(unquote(response.headers.get("x-file-errors", "{}")))
        return report_batch(results, errors, len(set(results) | set(errors)), folder, as_json)
