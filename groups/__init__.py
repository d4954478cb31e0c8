"""Programs, cohorts, members, group sessions and attendance: the ground Hearth stands on."""
