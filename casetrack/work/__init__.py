"""The work page (我的待办): each role's queues as the home page. A view package on top of
``cases`` (queue definitions) and ``reminders`` (the leader's overdue threshold)."""
