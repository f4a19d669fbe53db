"""promosim: agent-based simulation of shoppers in e-commerce promotions (Tmall Double 11).

Membership benefits, channels and phase schedules, compared on the platform's KPIs with honest
uncertainty.
"""

__version__ = "0.1.0"
