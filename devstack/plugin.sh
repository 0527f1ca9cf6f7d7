#!/bin/bash
# devstack plugin for heatwatcher: installs it next to Watcher and restarts
# the decision engine so the heat_reuse goal and its strategies are synced.

function install_heatwatcher {
    setup_develop "$HEATWATCHER_DIR"
}

function restart_heatwatcher_decision_engine {
    if is_service_enabled watcher-decision-engine; then
        restart_service devstack@watcher-decision-engine.service
    fi
}

if [[ "$1" == "stack" && "$2" == "install" ]]; then
    echo_summary "Installing heatwatcher"
    install_heatwatcher
elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
    echo_summary "Restarting the Watcher decision engine for heatwatcher"
    restart_heatwatcher_decision_engine
fi
