"""ProfileService: thin mapping between requests and ProfileStore."""

from __future__ import annotations

from ferry.v1 import profile_service_pb2 as pb
from ferry.v1 import profile_service_pb2_grpc

from ferry_registry.profile_report import ProfileReport
from ferry_registry.servicers.common import list_query, require
from ferry_registry.store.profile_events import ProfileEventStore
from ferry_registry.store.profiles import ProfileStore


class ProfileServicer(profile_service_pb2_grpc.ProfileServiceServicer):
    def __init__(self, store: ProfileStore, report: ProfileReport | None = None,
                 events: ProfileEventStore | None = None) -> None:
        self._store = store
        self._report = report or ProfileReport(store)
        self._events = events

    def ApplyProfile(self, request, context):
        applied = self._store.apply(request.profile, validate_only=request.validate_only)
        return pb.ApplyProfileResponse(profile=applied.profile, created=applied.created,
                                       mapping_changed=applied.mapping_changed)

    def GetProfile(self, request, context):
        require(name=request.name)
        return pb.GetProfileResponse(profile=self._store.get(request.name))

    def ListProfiles(self, request, context):
        profiles, token = self._store.list(**list_query(request))
        return pb.ListProfilesResponse(profiles=profiles, next_page_token=token)

    def DeleteProfile(self, request, context):
        require(name=request.name)
        self._store.delete(request.name, force=request.force)
        return pb.DeleteProfileResponse()

    def ValidateProfile(self, request, context):
        require(name=request.name)
        checks = [pb.CheckResult(check=c.check, ok=c.ok, message=c.message)
                  for c in self._report.checks(request.name)]
        return pb.ValidateProfileResponse(checks=checks, ok=all(c.ok for c in checks))

    def ListProfileEvents(self, request, context):
        require(name=request.name)
        events, token = self._events.list(request.name, page_size=request.page_size,
                                          page_token=request.page_token)
        return pb.ListProfileEventsResponse(events=events, next_page_token=token)
