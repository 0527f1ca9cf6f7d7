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
"""Per-host before/after rows of a plan, as plain Python values."""

from heatwatcher.planning import efficacy


def host_rows(problem, assign, models, idle_host_action):
    """One dict per host of ``problem``.

    Keys: ``name``, ``loop``, ``target_heat_rate`` (W, None off the loop),
    ``heat_rate_before``/``heat_rate_after`` (W), ``vcpus_used_before``/
    ``_after``, ``memory_mb_used_before``/``_after``, ``instances_before``/
    ``_after``, ``state_after`` (``on``, ``disabled``, ``off``) and
    ``power_model`` (``source``, ``samples``, ``r2``, ``mape``,
    ``watts_at_load``: 11 numbers, W at 0, 10, ..., 100 % CPU).
    """
    used_before, _, count_before = problem.host_usage(problem.current)
    used_after, _, count_after = problem.host_usage(assign)
    heat_before = efficacy.host_heat(problem, problem.current, 'none')
    heat_after = efficacy.host_heat(problem, assign, idle_host_action)
    empty_state = {'disable': 'disabled', 'power_off': 'off',
                   'none': 'on'}[idle_host_action]
    rows = []
    for h, name in enumerate(problem.host_names):
        stats = models.fit_stats(h) if hasattr(models, 'fit_stats') else {}
        rows.append({
            'name': name,
            'loop': bool(problem.loop[h]),
            'target_heat_rate': (float(problem.target[h])
                                 if problem.loop[h] else None),
            'heat_rate_before': round(float(heat_before[h]), 3),
            'heat_rate_after': round(float(heat_after[h]), 3),
            'vcpus_used_before': float(used_before[h, 0]),
            'vcpus_used_after': float(used_after[h, 0]),
            'memory_mb_used_before': float(used_before[h, 1]),
            'memory_mb_used_after': float(used_after[h, 1]),
            'instances_before': int(count_before[h]),
            'instances_after': int(count_after[h]),
            'state_after': 'on' if count_after[h] else empty_state,
            'power_model': {
                'source': models.source[h],
                'samples': stats.get('samples'),
                'r2': stats.get('r2'),
                'mape': stats.get('mape'),
                'watts_at_load': [round(w, 3)
                                  for w in models.watts_at_load(h)]},
        })
    return rows
