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
"""Plan-level damping: keep a placement only if its gain lasts.

The forecast gives each instance a load path over the horizon (``S``
slots). The placement the solver found on the planned loads is replayed on
every slot: unless it beats staying put (on the levels before migration
cost, :meth:`~.score.Score.strictly_better_than`) in at least
``min_benefit_duration`` of the slots, no migration is planned. A gain
that lasts less (a spike) does not move instances.

Pure: arrays in, a decision out.
"""

import dataclasses

import numpy as np

from heatwatcher.optimize import score


def lasting_share(problem, assign, loads):
    """Share of load scenarios in which ``assign`` beats staying put.

    :param problem: :class:`~.problem.Problem`.
    :param assign: ``(N,)`` host index per instance.
    :param loads: ``(N, S)`` instance loads (cores) in ``S`` slots, e.g. a
        forecast path over the horizon; NaN keeps the problem's load.
    :returns: fraction of the ``S`` slots in which ``assign`` is strictly
        better than ``problem.current``.
    """
    loads = np.asarray(loads, dtype=float)
    if loads.shape[1] == 0:
        return 0.0
    better = 0
    for slot in range(loads.shape[1]):
        slot_problem = dataclasses.replace(problem, load=np.where(
            np.isfinite(loads[:, slot]), loads[:, slot], problem.load))
        better += score.evaluate(slot_problem, assign).strictly_better_than(
            score.evaluate(slot_problem, problem.current))
    return better / float(loads.shape[1])


def lasting(problem, assign, path, used, min_benefit_duration):
    """Check that a plan's gain lasts over the forecast path.

    :param problem: the placement problem (loads as planned).
    :param assign: ``(N,)`` the solver's placement.
    :param path: ``(N, S)`` forecast path (% of each instance's vCPUs).
    :param used: ``(N,)`` bool, instances planned on the forecast; the
        others keep their planned load in every slot.
    :param min_benefit_duration: fraction of the slots (0 to 1).
    :returns: ``(keep, share)``: ``share`` is the fraction of the slots in
        which ``assign`` beats staying put (None when not replayed);
        ``keep`` is False when that is below ``min_benefit_duration``. A
        plan with no migration, or with no instance on the forecast, is
        always kept.
    """
    if np.array_equal(assign, problem.current) or not np.any(used):
        return True, None
    cores = np.asarray(path, float) / 100.0 * problem.demand[:, :1]
    loads = np.where(np.asarray(used)[:, None], cores, np.nan)
    share = lasting_share(problem, assign, loads)
    return share + 1e-9 >= min_benefit_duration, share
