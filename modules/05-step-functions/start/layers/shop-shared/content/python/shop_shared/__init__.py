"""shop_shared: the helpers every service of the shop uses, published once as a Lambda layer.

A function that lists the layer imports it as any package: /opt/python is on its path.
It builds on Powertools (its exceptions), so a function lists both layers.
Bump __version__ with every change: each deploy publishes a new, immutable layer version.
"""

__version__ = "1.0.0"
