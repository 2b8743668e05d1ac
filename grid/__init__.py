"""The grid safety net (网格兜底办) and handle-nearby service points.

Empty in the foundation: grid routing, grid groups and service-point scenarios come
with their own issue. The app is registered now so the layout is stable.
"""
