"""The topic contract: every topic name with the model of its values."""

from __future__ import annotations

from pydantic import BaseModel

from schemas.control import RulesetPublication
from schemas.inputs import Customer, Interaction, Transaction
from schemas.outputs import ChurnAlert, CustomerSignal, DeadLetter, NextBestOffer, RiskSignal, TierChange

TRANSACTIONS = "bank.transactions.v1"
INTERACTIONS = "bank.interactions.v1"
CUSTOMERS = "bank.customers.v1"
CHURN_ALERTS = "signalbank.churn-alerts.v1"
OFFERS = "signalbank.offers.v1"
SIGNALS = "signalbank.signals.v1"
SERVICE_ALERTS = "signalbank.service-alerts.v1"
RISK_SIGNALS = "signalbank.risk-signals.v1"
TIER_CHANGES = "signalbank.tier-changes.v1"
DEAD_LETTERS = "signalbank.deadletter.v1"
RULES_CONTROL = "signalbank.rules.v1"

INPUT_MODELS: dict[str, type[BaseModel]] = {
    TRANSACTIONS: Transaction,
    INTERACTIONS: Interaction,
    CUSTOMERS: Customer,
}
OUTPUT_MODELS: dict[str, type[BaseModel]] = {
    CHURN_ALERTS: ChurnAlert,
    OFFERS: NextBestOffer,
    SIGNALS: CustomerSignal,
    SERVICE_ALERTS: CustomerSignal,
    RISK_SIGNALS: RiskSignal,
    TIER_CHANGES: TierChange,
    DEAD_LETTERS: DeadLetter,
}
#: Topics that steer the workers (read by every worker, outside the consumer group).
CONTROL_MODELS: dict[str, type[BaseModel]] = {RULES_CONTROL: RulesetPublication}
TOPIC_MODELS: dict[str, type[BaseModel]] = {**INPUT_MODELS, **OUTPUT_MODELS, **CONTROL_MODELS}
INPUT_TOPICS: tuple[str, ...] = tuple(INPUT_MODELS)
OUTPUT_TOPICS: tuple[str, ...] = tuple(OUTPUT_MODELS)
CONTROL_TOPICS: tuple[str, ...] = tuple(CONTROL_MODELS)
