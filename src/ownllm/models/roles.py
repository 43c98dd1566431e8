"""Which model does which job for a tenant: the reader (answers with knowledge), the teacher (writes
synthetic data) and the base that gets tuned.

Defaults follow the hub: the strongest installed model reads and teaches, and SmolLM2 is tuned (the
shipped model whose recipe and gate are measured here; the Qwen models tune too, the 0.5B at about
half SmolLM2's tokens/s on two CPU cores, for a tenant that chooses them). A tenant may pick
others in its settings (`ownllm tenant config T '{"models": {"reader": "…"}}'`); a choice that is not
installed, or cannot do the job, is an error naming the setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ownllm.config import Settings
from ownllm.errors import InvalidInput
from ownllm.models.hub import DEFAULT_MODEL_ID, READER, SHIPPED_MODELS, TEACHER, TUNABLE, strongest
from ownllm.store.tenant_settings import ModelChoice, TenantSettings
from ownllm.store.tenants import tenant_settings

if TYPE_CHECKING:
    from ownllm.store.home import Home


@dataclass(frozen=True)
class RoleModels:
    reader: str
    teacher: str
    base: str


def check_model_choice(choice: ModelChoice) -> None:
    """Refuse ids that are not shipped models able to do the job (a reader may also be a tuned `ft:` model)."""
    wanted = {"reader": (choice.reader, READER), "teacher": (choice.teacher, TEACHER), "base": (choice.base, TUNABLE)}
    for field, (model_id, role) in wanted.items():
        if model_id is None or (field == "reader" and model_id.startswith("ft:")):
            continue
        model = SHIPPED_MODELS.get(model_id)
        able = [m.id for m in SHIPPED_MODELS.values() if role in m.roles]
        if model is None or role not in model.roles:
            raise InvalidInput(f"models.{field}: {model_id!r} cannot be the {field}; choose one of {', '.join(able)}",
                               param=f"models.{field}")
        if not model.installed:
            raise InvalidInput(f"models.{field}: {model_id!r} is not installed here (`make models` installs it)",
                               param=f"models.{field}")


def check_settings(settings: TenantSettings) -> None:
    """For `update_tenant_settings(check=…)`: a stored choice is always one that works now."""
    check_model_choice(settings.models)


def default_roles(settings: Settings) -> RoleModels:
    """The installation's defaults: OWNLLM_DEFAULT_READER / _TEACHER when set, else the strongest installed."""
    return RoleModels(reader=settings.default_reader or strongest(READER).id,
                      teacher=settings.default_teacher or strongest(TEACHER).id, base=DEFAULT_MODEL_ID)


def role_models(home: Home, tenant_id: str) -> RoleModels:
    """The tenant's choice where it made one, else the installation's defaults."""
    choice = tenant_settings(home, tenant_id).models
    check_model_choice(choice)
    defaults = default_roles(home.settings)
    return RoleModels(reader=choice.reader or defaults.reader, teacher=choice.teacher or defaults.teacher,
                      base=choice.base or defaults.base)
