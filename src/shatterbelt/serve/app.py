"""The ASGI application: the REST API, its OpenAPI spec and the dashboard page.

Every route under ``/api`` (and the spec at ``/openapi.json``) needs the token when the
server has one (``Authorization: Bearer <token>``; 401 otherwise).  The dashboard page and
its static files carry no data and are served without it; the page asks for the token.
Errors are one JSON line, ``{"error": "<field>: <reason>"}``, with a 4xx status: 401 no or
wrong token, 404 no such job, 409 a job without results yet, 413 a body over the limit,
422 a request the scenario schema or a cap refuses, 429 too many jobs queued or running.
"""

from __future__ import annotations

import hmac
import json
import shutil
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, FastAPI, Query
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.staticfiles import StaticFiles

from .. import __version__
from ..report.data import NATIONAL, ReportError
from . import results
from .config import ServeConfig
from .jobs import (
    SPEC_PATTERN,
    JobRequest,
    RequestError,
    all_parameters,
    list_scenarios,
    scenario_info,
    validate_request,
)
from .store import JobStore, TooManyJobs
from .worker import WorkerPool, jobs_dir, tmp_dir

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ID_PATTERN = r"^[0-9a-f]{32}$"
JobId = Annotated[str, PathParam(pattern=ID_PATTERN, description="a job's id (32 hex digits)")]


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = " ".join(message.split())


# ---------------------------------------------------------------------------- response models
class ErrorBody(BaseModel):
    error: str = Field(description="one line: <field>: <reason>")


class Health(BaseModel):
    status: str
    ready: bool = Field(description="the scenarios and their levers are loaded (the first /api/scenarios is fast)")
    version: str
    workers: int
    jobs: dict[str, int]
    caps: dict[str, float | int]


class Lever(BaseModel):
    path: str
    label: str
    group: str
    value: float
    range: list[float]
    source: str
    kind: str
    domain: str | None
    step: float
    integer: bool


class WithdrawalInfo(BaseModel):
    force: str
    month: str
    residual: float
    source: str


class ScenarioEntry(BaseModel):
    name: str
    kind: str
    description: str
    start: str
    horizon: str
    months: int
    levers: list[Lever]
    withdrawal: WithdrawalInfo | None = Field(description="the foreign force's withdrawal in the timeline, "
                                              "which a job's `withdrawal` replaces")


class ScenarioList(BaseModel):
    default: str
    scenarios: list[ScenarioEntry]
    caps: dict[str, float | int]


class ParameterList(BaseModel):
    scenario: str
    parameters: list[dict[str, Any]]


class JobCreated(BaseModel):
    id: str
    status: str
    created: bool = Field(description="false when an identical request was already queued, running or done")
    notes: list[str] = Field(default_factory=list)


class JobStatus(BaseModel):
    id: str
    status: str = Field(description="queued, running, done, failed, cancelled or interrupted")
    progress: float
    month: str | None
    request: dict[str, Any]
    error: str | None = Field(description="why the job failed or was interrupted")
    notes: list[str] = Field(description="notes on the request (a lever outside its documented range)")
    created: float
    started: float | None
    finished: float | None


class JobList(BaseModel):
    jobs: list[JobStatus]


class Summary(BaseModel):
    id: str
    runs: int
    summaries: list[dict[str, Any]]


class PanelIndex(BaseModel):
    id: str
    national_metrics: list[str]
    regional_metrics: list[str]
    regions: list[str]


class PanelSlice(BaseModel):
    id: str
    metric: str
    region: str
    run: int
    months: list[str]
    values: list[float | None]


class Events(BaseModel):
    id: str
    run: int
    total: int
    offset: int
    limit: int
    events: list[dict[str, Any]]


class ChartSvg(BaseModel):
    id: str
    title: str
    svg: str


class MapLayer(BaseModel):
    title: str
    button: str
    colors: list[str]
    cls: list[list[int]]
    text: list[list[str]]


class MapPayload(BaseModel):
    svg: str
    months: list[str]
    names: list[str]
    layers: list[MapLayer]


class Figures(BaseModel):
    id: str
    map: MapPayload | None
    charts: list[ChartSvg]
    key_html: str
    months: list[str]


class Effect(BaseModel):
    metric: str
    label: str
    mean_a: float
    mean_b: float
    effect: float
    lo: float
    hi: float
    percent: float | None
    pairs: int


class Comparison(BaseModel):
    id: str
    baseline: str
    effects: list[Effect]
    bars_svg: str | None
    charts: list[ChartSvg]


ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorBody, "description": d} for s, d in (
        (401, "no token or a wrong one"), (404, "no such job or result"), (409, "the job has no results yet"),
        (413, "request body over the limit"), (422, "refused by the scenario schema or a cap"),
        (429, "too many jobs queued or running"))
}


def _status(job: dict[str, Any]) -> JobStatus:
    return JobStatus(id=job["id"], status=job["status"], progress=float(job["progress"]), month=job["month"],
                     request=job["request"], error=job["error"], notes=job["warnings"],
                     created=job["created"], started=job["started"],
                     finished=job["finished"])


# ---------------------------------------------------------------------------- middleware
class Guard:
    """Token on every API call and a cap on request bodies, in front of the application."""

    def __init__(self, app: ASGIApp, token: str | None, max_body: int,
                 allowed_hosts: tuple[str, ...] | None = None) -> None:
        self.app = app
        self.token = token
        self.max_body = max_body
        self.allowed_hosts = allowed_hosts

    def _host_ok(self, scope: Scope) -> bool:
        if self.allowed_hosts is None:
            return True
        for k, v in scope.get("headers", []):
            if k == b"host":
                h = v.decode("latin-1").strip().lower()
                name = h[1:h.index("]")] if h.startswith("[") and "]" in h else h.split(":")[0]
                return name in self.allowed_hosts
        return False

    @staticmethod
    async def _send_error(send: Send, status: int, message: str, headers: list[tuple[bytes, bytes]] = ()) -> None:
        body = json.dumps({"error": message}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                *headers]})
        await send({"type": "http.response.body", "body": body})

    def _authorised(self, scope: Scope) -> bool:
        if self.token is None:
            return True
        want = self.token.encode()
        for k, v in scope.get("headers", []):
            if k == b"authorization" and v[:7].lower() == b"bearer ":
                return hmac.compare_digest(v[7:].strip(), want)
            if k == b"x-shatterbelt-token":
                return hmac.compare_digest(v.strip(), want)
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self._host_ok(scope):
            await self._send_error(send, 400, "host: this server answers only its loopback names "
                                   "(127.0.0.1, localhost, ::1)")
            return
        path = scope.get("path", "")
        protected = path.startswith("/api") or path == "/openapi.json"
        if protected and not self._authorised(scope):
            await self._send_error(send, 401, "token: missing or wrong (send Authorization: Bearer <token>)",
                                   [(b"www-authenticate", b"Bearer")])
            return
        length = None
        for k, v in scope.get("headers", []):
            if k == b"content-length":
                try:
                    length = int(v)
                except ValueError:
                    await self._send_error(send, 400, "content-length: not a number")
                    return
        if length is not None and length > self.max_body:
            await self._send_error(send, 413, f"body: {length} bytes; at most {self.max_body}")
            return
        if scope.get("method") in ("POST", "PUT", "PATCH"):
            chunks, size = [], 0
            while True:
                msg = await receive()
                if msg["type"] == "http.disconnect":
                    return
                chunk = msg.get("body", b"")
                size += len(chunk)
                if size > self.max_body:
                    await self._send_error(send, 413, f"body: more than {self.max_body} bytes")
                    return
                chunks.append(chunk)
                if not msg.get("more_body", False):
                    break
            body = b"".join(chunks)
            sent = False

            async def replay() -> Message:
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()
            await self.app(scope, replay, send)
            return
        await self.app(scope, receive, send)


# ---------------------------------------------------------------------------- the app
def static_dir() -> Path:
    return Path(str(resources.files("shatterbelt.serve") / "static"))


def create_app(config: ServeConfig, start_workers: bool = True) -> Any:
    """The ASGI application (FastAPI wrapped in the token and body guard).

    On start-up the data folder is prepared, jobs left running by an earlier server are marked
    interrupted (or done when their results were written whole) and the worker pool starts;
    on shutdown the workers stop and the jobs they ran are marked interrupted.
    """
    config.check()
    data = Path(config.data).absolute()
    caps = config.caps
    store = JobStore(data / "jobs.sqlite")
    pool = WorkerPool(store, data, config.workers, config.poll_seconds)
    caps_json = {"max_scale": caps.max_scale, "max_runs": caps.max_runs, "max_months": caps.max_months,
                 "max_jobs": caps.max_jobs, "max_levers": caps.max_levers, "max_body": caps.max_body}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        jobs_dir(data).mkdir(parents=True, exist_ok=True)
        shutil.rmtree(tmp_dir(data), ignore_errors=True)
        tmp_dir(data).mkdir(parents=True, exist_ok=True)
        store.recover(lambda jid: (jobs_dir(data) / jid / "job.json").exists())
        threading.Thread(target=_warm, daemon=True, name="shatterbelt-serve-warm").start()
        if start_workers:
            pool.start()
        try:
            yield
        finally:
            if start_workers:
                pool.stop()

    app = FastAPI(title="shatterbelt", version=__version__, lifespan=lifespan,
                  description="Run the shatterbelt simulator's scenarios with lever values, follow the jobs, read "
                              "their results and compare them with a baseline.  Every /api route needs "
                              "`Authorization: Bearer <token>` when the server has a token.",
                  docs_url=None, redoc_url=None)  # FastAPI's docs page loads its script from a CDN: not served
    app.add_middleware(GZipMiddleware, minimum_size=4096)  # figures and reports compress about tenfold
    app.state.store = store
    app.state.pool = pool
    app.state.config = config

    @app.exception_handler(ApiError)
    async def _api_error(request: Any, exc: ApiError) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    @app.exception_handler(RequestError)
    async def _request_error(request: Any, exc: RequestError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Any, exc: RequestValidationError) -> JSONResponse:
        errs = exc.errors()
        e = errs[0] if errs else {"loc": (), "msg": "invalid request"}
        loc = [str(x) for x in e.get("loc", ()) if x not in ("body",)] or ["body"]
        if loc[0] in ("path", "query"):
            loc = loc[1:] or loc
        msg = str(e.get("msg", "invalid")).replace("\n", " ")
        if loc[-1] == "[key]":  # a lever's path
            loc, msg = loc[:1], f"'{'.'.join(loc[1:-1])[:80]}' is not a parameter path ({msg})"
        return JSONResponse({"error": f"{'.'.join(loc)}: {msg}"}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Any, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": f"{request.url.path}: {exc.detail}"}, status_code=exc.status_code)

    warm = threading.Event()

    def _warm() -> None:
        try:
            for it in list_scenarios():
                scenario_info(it["name"])
        except Exception:  # noqa: BLE001  (warming a cache; the API reports errors itself)
            pass
        warm.set()

    api = APIRouter(prefix="/api", responses={401: ERRORS[401]})

    def job_or_404(job_id: str) -> dict[str, Any]:
        job = store.get(job_id)
        if job is None:
            raise ApiError(404, f"job: no job {job_id}")
        return job

    def done_folder(job_id: str) -> Path:
        job = job_or_404(job_id)
        if job["status"] != "done":
            raise ApiError(409, f"job: {job_id} is {job['status']}; results exist once it is done")
        folder = jobs_dir(data) / job_id
        if not (folder / "job.json").exists():
            raise ApiError(404, f"job: the results of {job_id} are missing from the data folder")
        return folder

    def n_runs(job: dict[str, Any]) -> int:
        return int(job["request"].get("runs", 1))

    def check_run(job: dict[str, Any], run: int) -> None:
        if run >= n_runs(job):
            raise ApiError(422, f"run: {run} is past the job's {n_runs(job)} run(s) (0-based)")

    @api.get("/health", response_model=Health)
    def health() -> Health:
        """The server is up; its version, live workers, jobs by status and caps."""
        return Health(status="ok", ready=warm.is_set(), version=__version__, workers=pool.alive() if start_workers else 0,
                      jobs=store.counts(), caps=caps_json)

    @api.get("/scenarios", response_model=ScenarioList, responses={422: ERRORS[422]})
    def scenarios() -> ScenarioList:
        """Built-in scenarios and variants, each with its levers: value, range and provenance."""
        out = []
        for it in list_scenarios():
            info = scenario_info(it["name"])
            out.append(ScenarioEntry(name=it["name"], kind=it["kind"], description=it["description"],
                                     start=info["start"], horizon=info["horizon"], months=info["months"],
                                     levers=[Lever(**lv) for lv in info["levers"]],
                                     withdrawal=info["withdrawal"]))
        return ScenarioList(default="iraq-2010", scenarios=out, caps=caps_json)

    @api.get("/scenarios/{name}/parameters", response_model=ParameterList, responses={422: ERRORS[422]})
    def parameters(name: Annotated[str, PathParam(max_length=600, pattern=SPEC_PATTERN)]) -> ParameterList:
        """Every parameter of a scenario (any of them may be sent as a lever)."""
        return ParameterList(scenario=name, parameters=all_parameters(name))

    @api.post("/jobs", response_model=JobCreated, status_code=202,
              responses={s: ERRORS[s] for s in (413, 422, 429)})
    def submit(req: Annotated[JobRequest, Body()]) -> JobCreated:
        """Queue a run (runs = 1) or a small ensemble of a built-in scenario with lever values."""
        _, notes = validate_request(req, caps)
        try:
            job, created = store.submit(req.canonical(), caps.max_jobs, notes)
        except TooManyJobs as exc:
            raise ApiError(429, f"jobs: {exc}; wait for one to finish") from None
        return JobCreated(id=job["id"], status=job["status"], created=created, notes=notes)

    @api.get("/jobs", response_model=JobList, responses={422: ERRORS[422]})
    def jobs(limit: Annotated[int, Query(ge=1, le=500)] = 100,
             status: Annotated[str | None, Query(pattern="^(queued|running|done|failed|cancelled|interrupted)$")]
             = None) -> JobList:
        """The latest jobs, newest first."""
        return JobList(jobs=[_status(j) for j in store.list(limit, status)])

    @api.get("/jobs/{job_id}", response_model=JobStatus, responses={s: ERRORS[s] for s in (404, 422)})
    def job(job_id: JobId) -> JobStatus:
        """A job's status and progress (0 to 1; the month being simulated)."""
        return _status(job_or_404(job_id))

    @api.delete("/jobs/{job_id}", response_model=JobStatus, responses={s: ERRORS[s] for s in (404, 422)})
    def cancel(job_id: JobId) -> JobStatus:
        """Cancel a queued or running job (a finished job is left as it is)."""
        if store.cancel(job_id) is None:
            raise ApiError(404, f"job: no job {job_id}")
        return _status(job_or_404(job_id))

    @api.get("/jobs/{job_id}/summary", response_model=Summary, responses={s: ERRORS[s] for s in (404, 409, 422)})
    def summary(job_id: JobId) -> Summary:
        """Each run's summary (deaths by year, civil-war years, control, legitimacy, ...)."""
        sums = results.summaries(done_folder(job_id))
        return Summary(id=job_id, runs=len(sums), summaries=sums)

    @api.get("/jobs/{job_id}/panel", response_model=PanelIndex, responses={s: ERRORS[s] for s in (404, 409, 422)})
    def panel_index(job_id: JobId) -> PanelIndex:
        """The metrics and regions of the job's monthly panel."""
        return PanelIndex(id=job_id, **results.panel_index(done_folder(job_id)))

    @api.get("/jobs/{job_id}/panel/{metric}", response_model=PanelSlice,
             responses={s: ERRORS[s] for s in (404, 409, 422)})
    def panel_slice(job_id: JobId, metric: Annotated[str, PathParam(max_length=100, pattern=r"^[A-Za-z0-9_]+$")],
                    region: Annotated[str, Query(max_length=100, pattern=r"^[A-Za-z0-9_-]+$")] = NATIONAL,
                    run: Annotated[int, Query(ge=0, le=10_000)] = 0) -> PanelSlice:
        """One metric at one place (``national`` or a region id) of one run, by month."""
        folder = done_folder(job_id)
        check_run(job_or_404(job_id), run)
        s = results.panel_slice(folder, metric, region, run)
        if s is None:
            raise ApiError(404, f"metric: '{metric}' is not recorded for {region}")
        return PanelSlice(id=job_id, **s)

    @api.get("/jobs/{job_id}/events", response_model=Events, responses={s: ERRORS[s] for s in (404, 409, 422)})
    def events(job_id: JobId, run: Annotated[int, Query(ge=0, le=10_000)] = 0,
               offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100,
               event_type: Annotated[str | None, Query(max_length=100)] = None) -> Events:
        """A page of one run's events (ACLED's columns), optionally of one event type."""
        folder = done_folder(job_id)
        check_run(job_or_404(job_id), run)
        return Events(id=job_id, **results.events(folder, run, offset, limit, event_type))

    @api.get("/jobs/{job_id}/figures", response_model=Figures, responses={s: ERRORS[s] for s in (404, 409, 422)})
    def figures(job_id: JobId) -> Figures:
        """The report's figures of the job: the governorate map (SVG and its classes by month), the
        charts as SVG, and the key figures as HTML."""
        f = results.job_figures(str(done_folder(job_id)))
        return Figures(id=job_id, **f)

    @api.get("/jobs/{job_id}/compare", response_model=Comparison,
             responses={s: ERRORS[s] for s in (404, 409, 422)})
    def compare(job_id: JobId, baseline: Annotated[str | None, Query(pattern=ID_PATTERN)] = None) -> Comparison:
        """The job against a baseline: by default the finished job of the same request without levers."""
        folder = done_folder(job_id)
        job = job_or_404(job_id)
        if baseline is None:
            base_req = {**job["request"], "levers": {}, "withdrawal": None}
            found = store.find_done(base_req)
            if found is None:
                raise ApiError(404, "baseline: no finished job of the same request without levers; submit it "
                                    "(POST /api/jobs without levers and withdrawal) and ask again")
            baseline = found["id"]
        base_folder = done_folder(baseline)
        changed = job["request"].get("levers") or job["request"].get("withdrawal")
        label = "with levers" if changed else "this job"
        if baseline == job_id:
            label = "the same job"
        try:
            c = results.comparison(str(folder), str(base_folder), label, "baseline")
        except ValueError as exc:
            raise ApiError(422, f"baseline: {exc}") from None
        return Comparison(id=job_id, baseline=baseline, **c)

    @api.get("/jobs/{job_id}/report", response_model=None,
             responses={200: {"description": "the report page", "content": {"text/html": {"schema": {"type": "string"}}}},
                        **{s: ERRORS[s] for s in (404, 409, 422)}})
    def job_report(job_id: JobId) -> HTMLResponse:
        """The job's full self-contained HTML report (as ``shatterbelt report`` draws it)."""
        folder = done_folder(job_id)
        return HTMLResponse((folder / "report.html").read_text(encoding="utf-8"))

    app.include_router(api)

    def openapi() -> dict[str, Any]:
        """The spec, saying that every /api operation takes the bearer token (when the server has one)."""
        if app.openapi_schema is None:
            spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            spec.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer", "description": "the server's token (--token or "
                           "$SHATTERBELT_TOKEN); not needed when the server has none"}}
            for ops in spec.get("paths", {}).values():
                for op in ops.values():
                    op["security"] = [{"bearer": []}, {}]
            app.openapi_schema = spec
        return app.openapi_schema
    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(static_dir() / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=static_dir()), name="static")

    @app.exception_handler(ReportError)
    async def _report_error(request: Any, exc: ReportError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=404)

    guarded = Guard(app, config.token, caps.max_body, config.allowed_hosts)
    guarded.fastapi = app  # type: ignore[attr-defined]
    return guarded
