"""Real human-rated text that ships inside a registry package: the VADER evaluation corpora.

The source distribution of `vaderSentiment==3.3.2` (not its wheel) holds
`additional_resources/hutto_ICWSM_2014.tar.gz` with four human-rated corpora (Hutto & Gilbert,
ICWSM 2014), each `id<TAB>mean rating in [-4, 4]<TAB>text`:
  movie_snippets  10,605 movie-review snippets (Pang & Lee, the corpus SST was built from)
  tweets, amazon_snippets, nyt_snippets   out-of-domain text
We fetch it with pip (the one network the tool may assume), check its sha256, and keep the
extracted files in the download cache.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from rosearch.cache import sha256_file
from rosearch.errors import ResourceUnavailable

SDIST = "vaderSentiment==3.3.2"
SDIST_FILE = "vaderSentiment-3.3.2.tar.gz"
SDIST_SHA256 = "5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9"
INNER_ARCHIVE = "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
CORPORA = {
    "movie_snippets": "movieReviewSnippets_GroundTruth.txt",
    "tweets": "tweets_GroundTruth.txt",
    "amazon_snippets": "amazonReviewSnippets_GroundTruth.txt",
    "nyt_snippets": "nytEditorialSnippets_GroundTruth.txt",
}


def download_cache() -> Path:
    """Where downloads live: $ROSEARCH_CACHE, else $XDG_CACHE_HOME/rosearch, else ~/.cache/rosearch."""
    if os.environ.get("ROSEARCH_CACHE"):
        return Path(os.environ["ROSEARCH_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rosearch"


def _fetch_sdist(folder: Path) -> Path:
    # pip downloads into a folder of this process's own, and the file is moved in whole: workers
    # started together on an empty cache each fetch, and none reads another's half-written file.
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=folder) as own:
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:", "-d", own, SDIST]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        fetched = Path(own) / SDIST_FILE
        if proc.returncode == 0 and fetched.is_file():
            os.replace(fetched, folder / SDIST_FILE)
    path = folder / SDIST_FILE
    if proc.returncode != 0 or not path.is_file():
        raise ResourceUnavailable(
            f"Could not fetch the {SDIST} source distribution from the package registry "
            f"(pip said: {proc.stderr.strip()[-400:] or 'nothing'}). It holds the embedded movie snippets; "
            f"check the registry is reachable, or download it elsewhere and place {SDIST_FILE} in {folder}."
        )
    return path


def corpus_file(corpus: str) -> Path:
    """The extracted ground-truth file of `corpus`, fetched and verified on first use."""
    if corpus not in CORPORA:
        raise ResourceUnavailable(f"Unknown embedded corpus {corpus!r}; known: {', '.join(CORPORA)}.")
    root = download_cache() / "vader-3.3.2"
    target = root / CORPORA[corpus]
    if target.is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    sdist = root / SDIST_FILE
    if not sdist.is_file():
        sdist = _fetch_sdist(root)
    actual = sha256_file(sdist)
    if actual != SDIST_SHA256:
        sdist.unlink()
        raise ResourceUnavailable(f"{SDIST_FILE} has sha256 {actual}, expected {SDIST_SHA256}; removed it, run again to re-fetch.")
    with tempfile.TemporaryDirectory(dir=root) as tmp, tarfile.open(sdist) as outer:
        inner = outer.extractfile(INNER_ARCHIVE)
        if inner is None:
            raise ResourceUnavailable(f"{SDIST_FILE} lacks {INNER_ARCHIVE}.")
        with tarfile.open(fileobj=inner) as archive:
            for name in CORPORA.values():
                member = archive.extractfile(f"hutto_ICWSM_2014/{name}")
                if member is None:
                    raise ResourceUnavailable(f"{INNER_ARCHIVE} lacks {name}.")
                (Path(tmp) / name).write_bytes(member.read())
        for name in CORPORA.values():
            os.replace(Path(tmp) / name, root / name)  # atomic: a crash leaves no half file
    return target


def read_rated(corpus: str) -> tuple[list[str], list[float]]:
    """Texts and mean human ratings of an embedded corpus, in file order."""
    texts, scores = [], []
    for line in corpus_file(corpus).read_text(encoding="utf-8").splitlines():
        parts = line.rstrip("\r").split("\t", 2)
        if len(parts) != 3 or not parts[2].strip():
            continue
        texts.append(parts[2].strip())
        scores.append(float(parts[1]))
    return texts, scores


def movie_snippets() -> tuple[list[str], list[int]]:
    """Movie snippets with binary sentiment labels (1 = positive); zero-rated lines are dropped."""
    texts, scores = read_rated("movie_snippets")
    kept = [(t, int(s > 0)) for t, s in zip(texts, scores) if s != 0]
    return [t for t, _ in kept], [y for _, y in kept]
