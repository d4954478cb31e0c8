"""Running a live group session and its activities; services queue events, never emit."""
