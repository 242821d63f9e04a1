"""Process checks shared by the tests that start and end worker processes."""
import psutil


def alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (an exited child its parent has not reaped counts as gone)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
