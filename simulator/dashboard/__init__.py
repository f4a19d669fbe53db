"""`promosim dashboard`: a what-if page in the browser (Solara).

Edit a scenario's offers, touches and channels, run it at 100,000-1,000,000 shoppers, see the
KPIs move.

state: the edited scenario and its validation; runner: runs in a worker thread, cached by the
scenario's digest; views: tables and charts of a run; assets: Solara's front-end files for an
offline machine; app: the page.
"""
