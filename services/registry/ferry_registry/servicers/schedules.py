"""ScheduleService: thin mapping between requests and ScheduleStore."""

from __future__ import annotations

from ferry.v1 import schedule_service_pb2 as pb
from ferry.v1 import schedule_service_pb2_grpc

from ferry_registry import convert
from ferry_registry.servicers.common import list_query, require
from ferry_registry.store.schedules import ScheduleStore


class ScheduleServicer(schedule_service_pb2_grpc.ScheduleServiceServicer):
    def __init__(self, store: ScheduleStore) -> None:
        self._store = store

    def CreateSchedule(self, request, context):
        return pb.CreateScheduleResponse(
            schedule=self._store.create(request.schedule, request.request_id))

    def GetSchedule(self, request, context):
        require(id=request.id)
        return pb.GetScheduleResponse(schedule=self._store.get(request.id))

    def ListSchedules(self, request, context):
        schedules, token = self._store.list(**list_query(request))
        return pb.ListSchedulesResponse(schedules=schedules, next_page_token=token)

    def UpdateSchedule(self, request, context):
        require(**{"schedule.id": request.schedule.id})
        return pb.UpdateScheduleResponse(
            schedule=self._store.update(request.schedule, request.update_mask))

    def DeleteSchedule(self, request, context):
        require(id=request.id)
        self._store.delete(request.id)
        return pb.DeleteScheduleResponse()

    def PauseSchedule(self, request, context):
        require(id=request.id)
        return pb.PauseScheduleResponse(schedule=self._store.pause(request.id, request.reason))

    def ResumeSchedule(self, request, context):
        require(id=request.id)
        return pb.ResumeScheduleResponse(schedule=self._store.resume(request.id))

    def PreviewSchedule(self, request, context):
        times = self._store.preview(
            request.id, request.schedule if request.HasField("schedule") else None,
            request.count,
            convert.from_timestamp(request.after_time) if request.HasField("after_time")
            else None)
        return pb.PreviewScheduleResponse(fire_times=[convert.to_timestamp(t) for t in times])

    def ListMissedFires(self, request, context):
        fires, token = self._store.missed_fires(request.schedule_id,
                                                page_size=request.page_size,
                                                page_token=request.page_token)
        return pb.ListMissedFiresResponse(missed_fires=fires, next_page_token=token)
