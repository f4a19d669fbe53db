"""promosim: agent-based simulation of shoppers, membership benefits and channels in e-commerce
promotions (Tmall Double 11), compared on the platform's KPIs with honest uncertainty."""

__version__ = "0.1.0"
