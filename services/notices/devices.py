"""Push devices: register (a token moves to whoever registers it last), list, delete, housekeeping."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.clock import clock
from services.db import rowcount, transaction
from services.errors import NotFound
from services.models import Agency, Device, PushJob, StaffRole, User
from services.models.notification import pushes_written
from vocab import Language, Platform

TOPIC_ALL = "all"


@dataclass(frozen=True)
class Registered:
    device: Device
    created: bool


def topics_of(session: Session, user_id: str) -> list[str]:
    """`all`, and for an official their agency's code (announcements to one agency's staff)."""
    agency = session.scalar(select(Agency.code).join(StaffRole, StaffRole.agency_id == Agency.id)
                            .join(User, User.cccd == StaffRole.cccd).where(User.id == user_id))
    return [TOPIC_ALL] if agency is None else [TOPIC_ALL, agency]


def _follow(session: Session, device: Device, wanted: list[str]) -> None:
    """Queue the topic changes that take the token from the topics it is on to `wanted`."""
    current = set(filter(None, device.topics.split(",")))
    now = clock.now()
    changes = (("unsubscribe", current - set(wanted)), ("subscribe", set(wanted) - current))
    if changed := sorted(current ^ set(wanted)):
        # A change still queued the other way is dropped, so a late retry cannot undo this one.
        session.execute(delete(PushJob).where(PushJob.token == device.token, PushJob.topic.in_(changed),
                                              PushJob.status == "pending"))
    for kind, topics in changes:
        session.add_all(PushJob(kind=kind, token=device.token, topic=t, next_attempt_at=now) for t in sorted(topics))
    if changed:
        pushes_written(session)
    device.topics = ",".join(wanted)


def register(session: Session, user_id: str, *, token: str, platform: Platform, locale: Language,
             app_version: str | None) -> Registered:
    """Keep the device's details (and its topics: a role may have changed) fresh; a token last
    registered by someone else becomes this user's."""
    with transaction(session):
        now = clock.now()
        device = session.scalar(select(Device).where(Device.token == token).with_for_update())
        if device is not None and device.user_id == user_id:
            device.platform, device.locale, device.app_version, device.last_seen_at = platform, locale, app_version, now
            _follow(session, device, topics_of(session, user_id))
            return Registered(device, created=False)
        topics = ""
        if device is not None:
            # Someone else's phone now (a shared or resold device): their queued pushes go with the
            # row, and the topics they had (an agency's) are left below.
            topics = device.topics
            session.delete(device)
            session.flush()
        device = Device(user_id=user_id, token=token, platform=platform, locale=locale, app_version=app_version,
                        created_at=now, last_seen_at=now, topics=topics)
        try:
            with session.begin_nested():
                session.add(device)
        except IntegrityError:
            # The same token registered at the same moment by another request: that one won.
            return register(session, user_id, token=token, platform=platform, locale=locale,
                            app_version=app_version)
        _follow(session, device, topics_of(session, user_id))
        return Registered(device, created=True)


def mine(session: Session, user_id: str) -> list[Device]:
    return list(session.scalars(select(Device).where(Device.user_id == user_id).order_by(Device.created_at.desc())))


def remove(session: Session, user_id: str, device_id: str) -> None:
    """Forget one of the caller's devices (404 for anyone else's) and take it off its topics."""
    with transaction(session):
        device = session.scalar(select(Device).where(Device.id == device_id, Device.user_id == user_id))
        if device is None:
            raise NotFound("no such device")
        _follow(session, device, [])
        session.delete(device)


def drop_stale(session: Session, *, days: int) -> int:
    """Housekeeping: tokens not seen for `days` days are dead on FCM's side too."""
    with transaction(session):
        result = session.execute(delete(Device).where(Device.last_seen_at < clock.now() - timedelta(days=days)))
        return rowcount(result)
