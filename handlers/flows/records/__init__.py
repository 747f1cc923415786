"""Records (服务档案): the fault report sent at resolution, and how long records are kept."""
