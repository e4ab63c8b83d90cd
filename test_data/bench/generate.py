#!/usr/bin/env python3
"""Writes the two benchmark requests, read by both the native criterion bench
(benches/rules.rs) and the wasm bench (`policy-runner bench`), so the
wasm/native ratio compares the same bytes:

    typical-update.json  the walkthrough's binary upgrade (0.110.0 -> 0.112.0,
                         schema still 0.110.0, two-phase): an UPDATE of a stored
                         object with managedFields and the last-applied annotation,
                         object and oldObject ~3 KB each.
    large-object.json    the same UPDATE with ~1 MiB of metadata on BOTH object and
                         oldObject (annotations + managedFields, as a controller that
                         stores state in annotations produces; an UPDATE always
                         carries the stored copy too): ~2 MiB of request, compact.

Deterministic (no randomness, no timestamps): running it again reproduces the
committed bytes.

    python3 test_data/bench/generate.py
"""

import copy
import json
import pathlib
import sys

sys.dont_write_bytecode = True

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import generate as fixtures  # noqa: E402  test_data/generate.py

# Bulk per object: what makes a DocumentDB object ~1 MiB.
TARGET_OBJECT_BYTES = 1 << 20


def typical_update():
    at_110 = fixtures.stored(fixtures.LIGHTRAG, "0.110.0")
    new = fixtures.changed(at_110, image=fixtures.img("0.112.0"))
    return fixtures.request("UPDATE", new, at_110)


def bulk(obj, target):
    """Grows obj's metadata to about `target` compact-JSON bytes: 3/4 in
    annotations (config blobs), 1/4 in managedFields (one entry per manager)."""
    md = obj["metadata"]
    size = lambda: len(json.dumps(obj, separators=(",", ":")))  # noqa: E731
    i = 0
    while size() < target * 3 // 4:
        blob = ",".join(f"shard-{i:05d}-{j:02d}=enabled" for j in range(16))
        md["annotations"][f"config.example.com/shard-{i:05d}"] = blob
        i += 1
    i = 0
    while size() < target:
        md["managedFields"].append(
            {
                "apiVersion": "documentdb.io/preview",
                "fieldsType": "FieldsV1",
                "fieldsV1": {
                    "f:metadata": {
                        "f:annotations": {f"f:config.example.com/shard-{i * 4 + k:05d}": {} for k in range(4)},
                        "f:labels": {f"f:team.example.com/owner-{i:05d}": {}},
                    }
                },
                "manager": f"config-syncer-{i:05d}",
                "operation": "Apply",
                "time": "2026-11-02T09:14:07Z",
            }
        )
        i += 1
    return obj


def large_object():
    req = typical_update()
    req["object"] = bulk(copy.deepcopy(req["object"]), TARGET_OBJECT_BYTES)
    req["oldObject"] = bulk(copy.deepcopy(req["oldObject"]), TARGET_OBJECT_BYTES)
    return req


def main():
    (HERE / "typical-update.json").write_text(json.dumps(typical_update(), indent=2) + "\n")
    (HERE / "large-object.json").write_text(json.dumps(large_object(), separators=(",", ":")) + "\n")
    for name in ("typical-update.json", "large-object.json"):
        print(f"{name}: {(HERE / name).stat().st_size} bytes")


if __name__ == "__main__":
    main()
