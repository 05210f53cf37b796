"""The risk questionnaire's versions, as data. A change of wording or points is a new version."""

from __future__ import annotations

from typing import Any

V1_HIGH_FROM = 12
V1_MEDIUM_FROM = 5
V1_QUESTIONS: list[dict[str, Any]] = [
    {
        "key": "impact_on_people",
        "short": "Impact on people",
        "text": "Does the model's output affect decisions about people?",
        "choices": [
            {"value": "none", "label": "No, it is not about people", "points": 0},
            {"value": "indirect", "label": "Indirectly (it informs a process that involves people)", "points": 2},
            {"value": "direct", "label": "Directly (it shapes a decision about a person)", "points": 4},
            {
                "value": "legal_effect",
                "label": "It decides on credit, employment, insurance, health or similar matters",
                "points": 6,
                "escalate": True,
            },
        ],
    },
    {
        "key": "automation",
        "short": "Degree of automation",
        "text": "Who takes the decision the model supports?",
        "choices": [
            {"value": "human_decides", "label": "A person decides; the model only advises", "points": 0},
            {"value": "human_reviews", "label": "The model decides; a person reviews every case", "points": 2},
            {"value": "sampled_review", "label": "The model decides; people review samples", "points": 3},
            {"value": "fully_automated", "label": "The model decides on its own", "points": 4},
        ],
    },
    {
        "key": "regulatory_scope",
        "short": "Regulatory scope",
        "text": "Which regulation covers this use?",
        "choices": [
            {"value": "none", "label": "No specific regulation", "points": 0},
            {"value": "sector", "label": "Sector rules (banking, insurance, health supervision)", "points": 3},
            {
                "value": "high_risk_listed",
                "label": "Listed as high-risk by AI regulation (such as the EU AI Act, Annex III)",
                "points": 6,
                "escalate": True,
            },
        ],
    },
    {
        "key": "data_sensitivity",
        "short": "Data sensitivity",
        "text": "What is the most sensitive data the model uses?",
        "choices": [
            {"value": "public", "label": "Public or non-personal data", "points": 0},
            {"value": "internal", "label": "Internal business data", "points": 1},
            {"value": "personal", "label": "Personal data", "points": 2},
            {"value": "special_category", "label": "Special-category data (health, ethnicity, beliefs …)", "points": 4},
        ],
    },
    {
        "key": "scale",
        "short": "Scale",
        "text": "How many decisions a month will the model support?",
        "choices": [
            {"value": "small", "label": "Fewer than 1,000", "points": 0},
            {"value": "medium", "label": "1,000 to 100,000", "points": 1},
            {"value": "large", "label": "More than 100,000", "points": 3},
        ],
    },
    {
        "key": "reversibility",
        "short": "Reversibility",
        "text": "If the model is wrong, can the outcome be undone?",
        "choices": [
            {"value": "easy", "label": "Yes, easily and quickly", "points": 0},
            {"value": "effort", "label": "Yes, with effort or delay", "points": 2},
            {"value": "irreversible", "label": "No, or only at great cost", "points": 4},
        ],
    },
]
