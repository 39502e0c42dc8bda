"""Fetch dataset files: offline mirror, then download cache, then the network; always SHA-256.

Resolution order for one file with relative path ``relpath`` (mirror layout, e.g.
``mulan/yeast/yeast-train.arff``):

1. **Mirror** — ``$ZOO_DATA_DIR/relpath`` if ``ZOO_DATA_DIR`` is set and the file exists. Its
   SHA-256 is checked and the mirror path is returned as is (nothing is copied). A mirror file
   with the wrong hash raises :class:`~zoo.errors.ChecksumError` (a mirror is never silently
   bypassed).
2. **Cache** — ``<cache>/relpath``, where ``<cache>`` is the ``cache_dir`` argument, else
   ``$ZOO_CACHE_DIR``, else ``~/.cache/zoo/datasets``. A cached file with the wrong hash is
   deleted and downloaded again.
3. **Download** — streamed with :mod:`urllib` into a temporary file next to its destination
   (hashing while writing), checked, then moved into place with :func:`os.replace`. A hash
   mismatch raises ``ChecksumError`` (file, expected and actual hash) and leaves neither a cache
   entry nor a temporary file. A progress bar (tqdm) is shown when stderr is a terminal or the
   file is large.

Archives (Reuters-21578 ships as one ``tar.gz``): :func:`fetch_members` downloads the archive
once into a temporary file, extracts only the requested members (each to a temporary file,
checked against its own SHA-256, then moved into the cache) and deletes the archive.

For tests and private mirrors served over HTTP, ``base_url=`` (or ``$ZOO_DATA_URL_OVERRIDE``)
replaces the canonical URL by ``base_url + "/" + relpath`` (for archives: ``base_url + "/" +``
the archive's file name). The catalog keeps the canonical URLs.

Example:
    >>> from zoo.data import catalog, download
    >>> rec = catalog.get("yeast").files["train"][0]
    >>> path = download.fetch(rec.path, rec.url, rec.sha256)   # doctest: +SKIP
"""
from __future__ import annotations

import hashlib
import os
import posixpath
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterable, Mapping

from zoo import _io
from zoo.errors import ChecksumError, ZooError

DATA_DIR_ENV = "ZOO_DATA_DIR"
CACHE_DIR_ENV = "ZOO_CACHE_DIR"
URL_OVERRIDE_ENV = "ZOO_DATA_URL_OVERRIDE"
DEFAULT_CACHE_DIR = Path("~/.cache/zoo/datasets")

#: Files at least this large get a progress bar even when stderr is not a terminal.
LARGE_FILE_BYTES = 32 * 2 ** 20
_CHUNK = 2 ** 20
_TIMEOUT_S = 60

# (resolved path, size, mtime_ns, inode) -> sha256 of files already hashed in this process, so
# that loading a dataset twice does not re-read its files. Keyed by stat, so an edited file is
# hashed again.
_VERIFIED: dict[tuple, str] = {}


class DownloadError(ZooError, OSError):
    """A file could not be downloaded (offline, HTTP error, ...); the message names the URL."""


def resolve_cache_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """The download cache directory: ``cache_dir``, ``$ZOO_CACHE_DIR`` or
    ``~/.cache/zoo/datasets``."""
    d = cache_dir or os.environ.get(CACHE_DIR_ENV) or DEFAULT_CACHE_DIR
    return Path(d).expanduser()


def mirror_dir() -> Path | None:
    """The offline mirror directory from ``$ZOO_DATA_DIR`` (``None`` when unset or empty)."""
    d = os.environ.get(DATA_DIR_ENV)
    return Path(d).expanduser() if d else None


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks (memoized per path and stat)."""
    p = Path(path)
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)
    if key not in _VERIFIED:
        _VERIFIED[key] = _io.sha256_file(p, _CHUNK)
    return _VERIFIED[key]


def _check(path: Path, expected: str, what: str) -> None:
    actual = sha256_file(path)
    if actual != expected.lower():
        raise ChecksumError(
            f"{what} {path} has SHA-256 {actual}, expected {expected.lower()}. The file is "
            "corrupted or not the published version; delete it (or fix the mirror) and retry.")


def _safe_relpath(relpath: str) -> str:
    norm = posixpath.normpath(relpath.replace("\\", "/"))
    if norm.startswith(("/", "../")) or norm in ("..", "."):
        raise ValueError(f"dataset file path must be relative and inside the cache: {relpath!r}")
    return norm


def _resolve_url(relpath: str, url: str, base_url: str | None) -> str:
    base = base_url or os.environ.get(URL_OVERRIDE_ENV)
    return f"{base.rstrip('/')}/{relpath}" if base else url


def where_looked(relpaths: Iterable[str], root: Path | None) -> str:
    """Words naming where the files ``relpaths`` were looked for, and how to provide them.

    Used by every "file not available" error, so that a user reads the exact relative path, the
    mirror variable and the cache location in one sentence.
    """
    relpaths = list(relpaths)
    shown = ", ".join(relpaths[:4]) + (f" (and {len(relpaths) - 4} more)"
                                       if len(relpaths) > 4 else "")
    mirror = mirror_dir()
    if mirror is None:
        m = f"{DATA_DIR_ENV} (the offline mirror) is not set"
    else:
        m = f"not in the mirror {DATA_DIR_ENV}={mirror} (looked for {mirror / relpaths[0]})"
    c = f"not in the download cache {root}" if root is not None else "no download cache"
    return (f"dataset file {shown}: {m}; {c}. To work offline, set {DATA_DIR_ENV} to a "
            f"directory holding the file under that relative path, e.g. "
            f"{DATA_DIR_ENV}/{relpaths[0]}")


def _lookup(relpath: str, sha256: str, root: Path | None) -> Path | None:
    """The mirror file for ``relpath`` if one exists (checked), else ``None``."""
    mirror = mirror_dir()
    if mirror is not None:
        p = mirror / relpath
        if p.is_file():
            _check(p, sha256, f"mirror file ({DATA_DIR_ENV})")
            return p
    if root is not None:
        p = root / relpath
        if p.is_file():
            if sha256_file(p) == sha256.lower():
                return p
            p.unlink()  # a corrupted or truncated cache entry: fetch it again
    return None


def fetch(relpath: str, url: str, sha256: str, cache_dir: str | os.PathLike | None = None,
          base_url: str | None = None) -> Path:
    """Local path of a verified copy of one dataset file (mirror, cache or download).

    Args:
        relpath: path in the mirror/cache layout, e.g. ``"mulan/yeast/yeast.xml"``.
        url: canonical URL (replaced by ``base_url + "/" + relpath`` when ``base_url`` or
            ``$ZOO_DATA_URL_OVERRIDE`` is set).
        sha256: expected hex SHA-256.
        cache_dir: download cache (default ``$ZOO_CACHE_DIR`` or ``~/.cache/zoo/datasets``).

    Raises:
        ChecksumError: the mirror file or the downloaded bytes have another hash.
        DownloadError: the file is in neither mirror nor cache and cannot be downloaded.

    Example:
        >>> from zoo.data import catalog
        >>> xml = catalog.get("flags").files["train"][1]
        >>> fetch(xml.path, xml.url, xml.sha256)   # doctest: +SKIP
        PosixPath('/home/me/.cache/zoo/datasets/mulan/flags/flags.xml')
    """
    relpath = _safe_relpath(relpath)
    root = resolve_cache_dir(cache_dir)
    found = _lookup(relpath, sha256, root)
    if found is not None:
        return found
    target = root / relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    src = _resolve_url(relpath, url, base_url)
    try:
        tmp = _download_to_temp(src, target.parent, target.name)
    except DownloadError as e:
        raise DownloadError(f"{where_looked([relpath], root)}; and the download failed: "
                            f"{e}") from e.__cause__
    try:
        actual = _hash_path(tmp)
        if actual != sha256.lower():
            raise ChecksumError(
                f"downloaded file {relpath} (from {src}) has SHA-256 {actual}, expected "
                f"{sha256.lower()}; it was discarded. The server sent other bytes than the "
                "published file (a proxy, a truncated transfer or a changed upstream file).")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def fetch_members(archive_url: str, members: Mapping[str, tuple[str, str]],
                  cache_dir: str | os.PathLike | None = None,
                  base_url: str | None = None) -> dict[str, Path]:
    """Verified local copies of files that are published inside one ``tar.gz`` archive.

    Args:
        archive_url: canonical URL of the archive (with ``base_url`` /
            ``$ZOO_DATA_URL_OVERRIDE``: ``base_url + "/" +`` the archive's file name).
        members: relpath (mirror/cache layout) -> (member name in the archive, SHA-256).
            Member names are matched after stripping a leading ``./``, also when the archive
            nests them in one top folder.
        cache_dir: as in :func:`fetch`.

    Returns:
        relpath -> local path, for every requested member. Files already in the mirror or
        the cache are not downloaded again; the archive is downloaded at most once per call and
        deleted after extraction.

    Raises:
        ChecksumError: a member (after extraction) or a mirror file has another hash; the
            offending member leaves no cache entry.
        DownloadError: the archive cannot be downloaded, or lacks a requested member.
    """
    root = resolve_cache_dir(cache_dir)
    out: dict[str, Path] = {}
    missing: dict[str, tuple[str, str]] = {}
    for relpath, (member, sha) in members.items():
        relpath = _safe_relpath(relpath)
        found = _lookup(relpath, sha, root)
        if found is None:
            missing[relpath] = (member, sha)
        else:
            out[relpath] = found
    if not missing:
        return out
    archive_name = posixpath.basename(archive_url.rstrip("/"))
    base = base_url or os.environ.get(URL_OVERRIDE_ENV)
    src = f"{base.rstrip('/')}/{archive_name}" if base else archive_url
    root.mkdir(parents=True, exist_ok=True)
    try:
        tmp_archive = _download_to_temp(src, root, archive_name)
    except DownloadError as e:
        raise DownloadError(f"{where_looked(sorted(missing), root)}; and the download of the "
                            f"archive holding them failed: {e}") from e.__cause__
    try:
        by_member = {m: rel for rel, (m, _) in missing.items()}
        with tarfile.open(tmp_archive, "r:*") as tar:
            for info in tar:
                if not info.isfile():
                    continue
                rel = by_member.get(_member_key(info.name, by_member))
                if rel is None:
                    continue
                member, sha = missing[rel]
                out[rel] = _extract_member(tar, info, root / rel, sha, rel, src)
    except tarfile.TarError as e:
        raise DownloadError(f"{src} is not a readable tar archive ({e})") from e
    finally:
        os.unlink(tmp_archive)
    absent = sorted(m for rel, (m, _) in missing.items() if rel not in out)
    if absent:
        raise DownloadError(f"archive {src} does not contain {', '.join(absent)}")
    return out


def _member_key(name: str, wanted: Iterable[str]) -> str | None:
    name = posixpath.normpath(name.lstrip("/"))
    if name in wanted:
        return name
    for w in wanted:  # archives that nest everything in one folder
        if name.endswith("/" + w):
            return w
    return None


def _extract_member(tar: tarfile.TarFile, info: tarfile.TarInfo, target: Path, sha256: str,
                    relpath: str, src: str) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, tar.extractfile(info) as f:
            for chunk in iter(lambda: f.read(_CHUNK), b""):
                h.update(chunk)
                out.write(chunk)
        actual = h.hexdigest()
        if actual != sha256.lower():
            raise ChecksumError(
                f"member {info.name} of {src} (for {relpath}) has SHA-256 {actual}, expected "
                f"{sha256.lower()}; it was discarded.")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def _hash_path(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _download_to_temp(url: str, directory: Path, name: str) -> str:
    """Stream ``url`` into a new temporary file in ``directory``; returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".part")
    try:
        req = urllib.request.Request(url, headers={"User-Agent": "zoo-mlc dataset fetch"})
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(req, timeout=_TIMEOUT_S) as r:
            total = int(r.headers.get("Content-Length") or 0) or None
            with _progress(total, name) as bar:
                for chunk in iter(lambda: r.read(_CHUNK), b""):
                    out.write(chunk)
                    bar.update(len(chunk))
    except (urllib.error.URLError, OSError, ValueError) as e:
        os.unlink(tmp)
        reason = getattr(e, "reason", None) or e
        raise DownloadError(
            f"could not download {url} ({reason}). If this machine is offline, set "
            f"{DATA_DIR_ENV} to a directory that mirrors the dataset files (the mirror layout, "
            f"e.g. {DATA_DIR_ENV}=/path/to/datasets holding the file under its relative path)."
        ) from e
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


class _NoBar:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n):
        pass


def _progress(total: int | None, name: str):
    interactive = hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
    if not (interactive or (total or 0) >= LARGE_FILE_BYTES):
        return _NoBar()
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is a dependency, but a bar is not worth failing for
        return _NoBar()
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=name,
                file=sys.stderr, leave=False)


def fetch_record(record, cache_dir: str | os.PathLike | None = None,
                 base_url: str | None = None) -> Path:
    """:func:`fetch` for one :class:`zoo.data.catalog.FileRecord` (plain file or member)."""
    if record.member is None:
        return fetch(record.path, record.url, record.sha256, cache_dir, base_url)
    return fetch_members(record.url, {record.path: (record.member, record.sha256)},
                         cache_dir, base_url)[_safe_relpath(record.path)]


def fetch_records(records, cache_dir: str | os.PathLike | None = None,
                  base_url: str | None = None) -> dict[str, Path]:
    """Fetch several :class:`~zoo.data.catalog.FileRecord` at once; relpath -> local path.

    Archive members of one archive are grouped so the archive is downloaded once."""
    out: dict[str, Path] = {}
    archives: dict[str, dict[str, tuple[str, str]]] = {}
    for rec in records:
        if rec.member is None:
            out[rec.path] = fetch(rec.path, rec.url, rec.sha256, cache_dir, base_url)
        else:
            archives.setdefault(rec.url, {})[rec.path] = (rec.member, rec.sha256)
    for url, members in archives.items():
        out.update(fetch_members(url, members, cache_dir, base_url))
    return out


__all__ = ["fetch", "fetch_members", "where_looked", "fetch_record", "fetch_records", "sha256_file",
           "resolve_cache_dir", "mirror_dir", "DownloadError", "DATA_DIR_ENV", "CACHE_DIR_ENV",
           "URL_OVERRIDE_ENV"]
