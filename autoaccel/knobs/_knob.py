"""The contract every knob keeps."""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from pydantic.fields import FieldInfo

    from autoaccel.knobs._facts import TaskFacts
    from autoaccel.probe import HardwareProfile

Stage = Literal["train", "deploy"]


class Knob(abc.ABC):
    """One setting of a configuration: what it may be, where it runs, how it is applied.

    A knob is plain data plus one question; it never imports torch at module level.

    Attributes:
        name:
            The :class:`~autoaccel.knobs.Config` field it sets, the key in search-space files
            and in stored trial parameters.
        values:
            The type of its values (``bool``, ``int``, a ``Literal`` of choices); with
            ``field`` (the default and bounds, a pydantic ``Field``) it becomes the
            ``Config`` field. The default is PyTorch's own behaviour: nothing accelerated.
        stages:
            The stages whose configurations it is part of, searched and stored there.
        needs:
            The numeric knob that must be above its default for this one to mean
            anything, or None. While it is not, this knob keeps its own default and is
            not searched, and a configuration that sets it anyway is invalid.
        ranged:
            Whether a search space may give it as ``{low, high, step}`` instead of a list.
        excludes:
            Knobs that keep their defaults while this one is set (not at its default),
            because they do not apply then; ``excludes_why`` says why, in one sentence.
            A search does not ask for them, and a configuration that sets them is invalid.

    What the knob changes, and at which step of which stage it is applied, is said in its
    docstring; the steps themselves are the module's ``Step`` objects, ordered per stage in
    ``knobs.TRAIN`` and ``knobs.DEPLOY``.
    """

    name: ClassVar[str]
    values: ClassVar[Any]
    field: ClassVar[FieldInfo]
    stages: ClassVar[tuple[Stage, ...]]
    needs: ClassVar[str | None] = None
    ranged: ClassVar[bool] = False
    excludes: ClassVar[tuple[str, ...]] = ()
    excludes_why: ClassVar[str] = ""

    @abc.abstractmethod
    def refusal(
        self, value: Any, hw: HardwareProfile, facts: TaskFacts | None, stage: Stage
    ) -> str | None:
        """Why this knob cannot take ``value`` in ``stage`` on ``hw`` for this task.

        Args:
            value:
                A value of the knob's type, already valid for its ``Config`` field.
            hw:
                The hardware the trial runs on.
            facts:
                What a trial process learned about the task, or None where it is not known
                yet (``autoaccel.train`` asks before inspecting anything): answer only what
                the hardware decides then.
            stage:
                The stage the value would run in.

        Returns:
            None if the value can run; otherwise one sentence a user can act on. A refused
            value is dropped from the search space with this reason, and a configuration
            holding it is refused before a trial is spent on it. Never raises.
        """
