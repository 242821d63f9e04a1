"""``evokit serve``: a job service over run directories, with a REST API, server-sent events and
a live web page.

* :mod:`evokit.service.store`: the job table (SQLite under the service's root).
* :mod:`evokit.service.submit`: a client's submission (config text or form fields, a built-in
  dataset or an uploaded CSV/NPZ) checked and turned into a job directory; nothing a client sends
  becomes a path or runs as code.
* :mod:`evokit.service.progress`: a job's progress read from its run directory (generation,
  evaluations, best so far, ETA), and the records the event stream sends.
* :mod:`evokit.service.jobs`: jobs as ``evokit run`` / ``evokit resume`` processes, a few at a
  time, the rest queued; a restarted service resumes the jobs its death interrupted.
* :mod:`evokit.service.app`: the FastAPI application (``/api``, ``/api/docs``, the page).
* :mod:`evokit.service.server`: ``serve()``, which runs it under uvicorn.

Needs the ``serve`` extra (``pip install "evokit[serve]"``): FastAPI, uvicorn, python-multipart, Plotly.
"""
