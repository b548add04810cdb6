"""Cryptographic PDF signatures with pyHanko: PAdES baseline B-B, from a PKCS#12 key store.

PAdES B-B is a CMS signature (ETSI.CAdES.detached) carrying the signing certificate as a signed
attribute. No timestamp authority is contacted (Lutra's servers may have no internet), so the time of
signing is the signer's claim; a later B-T upgrade can add a timestamp to the same signature.
"""

from __future__ import annotations

import logging
from pathlib import Path

from app.engine.tool import InputRejected, ToolFailure

log = logging.getLogger("lutra.signing")
FIELD_NAME = "LutraSignature"


def load_signer(p12: Path, password: str) -> object:
    """A pyHanko signer from a .p12/.pfx; 400 when it can't be opened or holds no private key."""
    from pyhanko.sign import signers

    try:
        signer = signers.SimpleSigner.load_pkcs12(pfx_file=str(p12), passphrase=password.encode() or None)
    except Exception as exc:  # pyHanko raises several types (ValueError, its own errors) for bad stores
        log.info("PKCS#12 not loaded: %s", exc)
        signer = None
    if signer is None:
        raise InputRejected(
            "The certificate could not be opened: wrong password, or not a PKCS#12 file with a private key",
            400,
            "INVALID_CERTIFICATE",
        )
    return signer


def sign_pades(
    source: Path, out: Path, signer: object, *, name: str | None, reason: str | None, location: str | None
) -> Path:
    """Signs `source` into `out` as an incremental update (the signed bytes stay as they were)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        name=name,
        reason=reason,
        location=location,
    )
    try:
        with source.open("rb") as inf, out.open("wb") as outf:
            writer = IncrementalPdfFileWriter(inf, strict=False)
            signers.sign_pdf(writer, meta, signer=signer, output=outf)  # type: ignore[arg-type]
    except Exception as exc:
        log.warning("signing failed: %s", exc)
        raise ToolFailure("the PDF could not be signed") from exc
    return out
