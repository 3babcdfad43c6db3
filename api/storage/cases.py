"""Cases and their uploaded files, kept byte for byte."""

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.storage.clock import now
from api.storage.tables import CaseFile, CaseRecord


def add_case(
    session: Session, files: dict[str, bytes], input_sha256: str, schools: int, children: int, created_by: str
) -> CaseRecord:
    case = CaseRecord(
        case_id=f"case_{secrets.token_hex(8)}",
        input_sha256=input_sha256,
        schools=schools,
        children=children,
        created_at=now(),
        created_by=created_by,
    )
    session.add(case)
    session.flush()
    for name, content in files.items():
        session.add(CaseFile(case_id=case.case_id, file_name=name, content=content))
    session.flush()
    return case


def get_case(session: Session, case_id: str) -> CaseRecord | None:
    return session.get(CaseRecord, case_id)


def case_files(session: Session, case_id: str) -> dict[str, bytes]:
    query = select(CaseFile).where(CaseFile.case_id == case_id).order_by(CaseFile.file_name)
    return {row.file_name: row.content for row in session.scalars(query)}
