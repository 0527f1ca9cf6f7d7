#!/bin/bash
# devstack plugin for heatwatcher: installs it next to Watcher, writes its
# options into Watcher's configuration, restarts Watcher's decision engine
# and applier so the goals and strategies are synced, and removes what it
# added on unstack/clean.

HEATWATCHER_STRATEGY_OPTIONS=(
    "watcher_strategies.heat_consolidation loop_hosts HEATWATCHER_LOOP_HOSTS"
    "watcher_strategies.heat_consolidation target_heat_rate HEATWATCHER_TARGET_HEAT_RATE"
    "watcher_strategies.heat_consolidation idle_host_action HEATWATCHER_IDLE_HOST_ACTION"
    "watcher_strategies.heat_consolidation default_idle_power HEATWATCHER_DEFAULT_IDLE_POWER"
    "watcher_strategies.heat_consolidation default_max_power HEATWATCHER_DEFAULT_MAX_POWER"
    "watcher_strategies.heat_consolidation heat_source HEATWATCHER_HEAT_SOURCE"
    "watcher_strategies.heat_consolidation mode HEATWATCHER_MODE"
    "heatwatcher state_path HEATWATCHER_STATE_PATH"
    "heatwatcher power_action HEATWATCHER_POWER_ACTION"
    "watcher_strategies.thermal_shedding thermal_zones HEATWATCHER_THERMAL_ZONES"
    "watcher_strategies.thermal_shedding trigger_temperature HEATWATCHER_TRIGGER_TEMPERATURE"
    "watcher_strategies.thermal_shedding clear_temperature HEATWATCHER_CLEAR_TEMPERATURE"
    "watcher_strategies.thermal_shedding power_up_temperature HEATWATCHER_POWER_UP_TEMPERATURE"
    "watcher_strategies.thermal_shedding protected_hosts HEATWATCHER_PROTECTED_HOSTS"
)

function install_heatwatcher {
    setup_develop "$HEATWATCHER_DIR"
}

function configure_heatwatcher {
    local entry section option variable
    for entry in "${HEATWATCHER_STRATEGY_OPTIONS[@]}"; do
        read -r section option variable <<< "$entry"
        if [[ -n "${!variable}" ]]; then
            iniset "$WATCHER_CONF" "$section" "$option" "${!variable}"
        fi
    done
    if [[ "$HEATWATCHER_GUARDED_ENGINE" == "True" ]]; then
        iniset "$WATCHER_CONF" watcher_applier workflow_engine heat_guarded
    fi
    if is_service_enabled gnocchi-api; then
        # The metrics heatwatcher reads beyond Watcher's own defaults
        cat > "$HEATWATCHER_METRIC_MAP" <<MAP
gnocchi:
  host_power: hardware.ipmi.node.power
  host_inlet_temp: hardware.ipmi.node.temperature
  host_outlet_temp: hardware.ipmi.node.outlet_temperature
  host_cpu_usage: compute.node.cpu.percent
  instance_cpu_usage: cpu
MAP
        iniset "$WATCHER_CONF" watcher_decision_engine metric_map_path \
            "$HEATWATCHER_METRIC_MAP"
    fi
}

function restart_watcher_for_heatwatcher {
    local service
    for service in watcher-decision-engine watcher-applier; do
        if is_service_enabled "$service"; then
            restart_service "devstack@$service.service"
        fi
    done
}

function cleanup_heatwatcher {
    local entry section option variable
    for entry in "${HEATWATCHER_STRATEGY_OPTIONS[@]}"; do
        read -r section option variable <<< "$entry"
        inidelete "$WATCHER_CONF" "$section" "$option"
    done
    if [[ "$(iniget "$WATCHER_CONF" watcher_applier workflow_engine)" == \
          "heat_guarded" ]]; then
        inidelete "$WATCHER_CONF" watcher_applier workflow_engine
    fi
    if [[ "$(iniget "$WATCHER_CONF" watcher_decision_engine \
             metric_map_path)" == "$HEATWATCHER_METRIC_MAP" ]]; then
        inidelete "$WATCHER_CONF" watcher_decision_engine metric_map_path
    fi
    rm -f "$HEATWATCHER_METRIC_MAP"
}

if [[ "$1" == "stack" && "$2" == "install" ]]; then
    echo_summary "Installing heatwatcher"
    install_heatwatcher
elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
    echo_summary "Configuring heatwatcher in $WATCHER_CONF"
    configure_heatwatcher
elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
    echo_summary "Restarting Watcher so it syncs heatwatcher's goals"
    restart_watcher_for_heatwatcher
fi

if [[ "$1" == "unstack" || "$1" == "clean" ]]; then
    cleanup_heatwatcher
fi
