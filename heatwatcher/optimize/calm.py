# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.
"""Calm continuous audits: a hysteresis on the hosts at target.

Once a plan has been executed, the next audit sees the same placement with
slightly different loads. A loop host filled just to its target drops a
few percent below it when its instances get a little quieter, and without
a hysteresis the solver would migrate instances to bring it back: every
audit would reshuffle a cloud whose load barely changed.

The decision: a loop host that holds instances and whose heat rate with
its current instances is within ``hysteresis`` of its target (at least
``(1 - hysteresis) x target``) is **held** at target: for the solve, its
target becomes the heat it gives now (never above the real target). It
keeps counting as at target as long as it keeps at least its current
load, so no migration is planned only to recover those few percent, while
a placement that brings more hosts to target is still found. The audit's
efficacy indicators and host rows use the real targets.

The same band applies to releasing hosts (:func:`release_lasts`). A plan
that brings no more hosts to target than staying put, and gains only
active hosts, is kept only if its hosts at target keep their real target
with every load ``hysteresis`` lower. Otherwise the consolidation holds
only at the exact planned load: measured on the demo sample, a load drift
of 15 minutes let the next audit pack the 8 active hosts into 7 with
every host at the edge of its target (25 to 36 migrations), which the
drift back would undo.

Pure: a :class:`~.problem.Problem` in, a :class:`~.problem.Problem` out.
"""

import dataclasses

import numpy as np

from heatwatcher.optimize import score as scoring


def hold_targets(problem, hysteresis):
    """The problem the solver sees, with hosts near target held there.

    :param problem: :class:`~.problem.Problem` with the real targets (W).
    :param hysteresis: fraction of the target (0 to 1); 0 holds nothing.
    :returns: ``(problem, held)``: ``problem`` with ``target[h]`` lowered
        to the current heat rate (W) of each held host, and ``held``
        ``(H,)`` bool, the held hosts (loop hosts with instances, below
        their target and within ``hysteresis`` of it).
    """
    if hysteresis <= 0 or problem.n_hosts == 0:
        return problem, np.zeros(problem.n_hosts, bool)
    _, load, count = problem.host_usage(problem.current)
    heat = problem.heat_at(load)
    reached = scoring.reached_mask(problem, load, count)
    held = (problem.loop & (count > 0) & ~reached
            & (heat >= (1.0 - hysteresis) * problem.target))
    if not held.any():
        return problem, held
    target = np.where(held, np.minimum(heat, problem.target),
                      problem.target)
    return dataclasses.replace(problem, target=target), held


def release_lasts(problem, held_problem, assign, hysteresis):
    """Whether a plan that only releases hosts keeps its hosts at target.

    :param problem: :class:`~.problem.Problem` with the real targets.
    :param held_problem: the problem the solver saw
        (:func:`hold_targets`), which counts staying put.
    :param assign: ``(N,)`` the solver's placement.
    :param hysteresis: fraction of the load (0 to 1); 0 keeps every plan.
    :returns: ``(keep, at_target, needed)``: ``keep`` is False when
        ``assign`` brings no more hosts to target than staying put (held
        hosts counted), has fewer active hosts, and with every load lowered
        by ``hysteresis`` reaches fewer real targets (``at_target``) than
        staying put reaches now (``needed``); both counts are None when
        the rule does not apply.
    """
    if hysteresis <= 0 or np.array_equal(assign, problem.current):
        return True, None, None
    plan = scoring.evaluate(held_problem, assign)
    stay = scoring.evaluate(held_problem, held_problem.current)
    if plan.reached > stay.reached or not plan.strictly_better_than(stay):
        return True, None, None
    lowered = dataclasses.replace(problem,
                                  load=problem.load * (1.0 - hysteresis))
    at_target = scoring.evaluate(lowered, assign).reached
    return at_target >= stay.reached, at_target, stay.reached
