"""The dispute case workflow in parts (workflows/dispute_case.py holds the class and its process).

Each part is a layer that uses only the layers below it, bottom up:

    state      what the workflow keeps, grouped by concern
    clocks     keeping the case's clocks on the handling center's calendar
    view       what the Temporal UI shows: the status query, search attributes, current details
    register   writing each step to the register, with its audit entry
    links      outside systems: deliveries, notices, the police feed, the partner center, the red alert
    lateness   a clock's reminder point or deadline: 催办 and 督办
    grading    the grade, the queue priority, the route (level, center, units)
    decisions  people's decisions (updates) and the validators that refuse one out of turn
    oversight  decisions on the clocks and on the handling: pause, resume, extend, calendars; 督办, 交办, 提级

DisputeCaseWorkflow (the process: intake → triage → levels → result → visit) sits on top of them all.
"""
