import ConciergeJSON
import ConciergeModels

/// `GET /v1/workflow/templates` (SPEC §5): `vip-routing`, `dedicated-hero-rules`, `loyalty-priority-queues`.
enum WorkflowTemplates {
    static let all: [WorkflowTemplate] = [vipRouting, dedicatedHeroRules, loyaltyPriorityQueues]

    static let vipRouting = WorkflowTemplate(
        name: "vip-routing",
        description: """
            Customers with a dedicated hero are greeted and sent to the hero. Everyone else is looked up in the \
            CRM directory by email (chat customers without a known email are asked for it, three tries): VIPs go to \
            the VIP team by least busy, everyone else to support; a customer who never gives a valid email goes to a manager.
            """,
        placeholders: [
            .init(placeholder: "<vip inbox id>", description: "The VIP team's inbox."),
            .init(placeholder: "<support inbox id>", description: "The general support inbox."),
            .init(
                placeholder: "<manager agent id>", description: "The agent who takes customers who never gave an email."
            ),
        ],
        workflow: json(
            """
            {"start": "hero",
             "steps": [
              {"id": "hero", "type": "branch", "cases": [{"if": {"dedicatedHero": "assigned"}, "goto": "greet"}], "else": "hasEmail"},
              {"id": "greet", "type": "reply", "body": "Hi {{contact.name}}, we are connecting you with your dedicated agent.", "next": "toHero"},
              {"id": "toHero", "type": "assign", "to": "dedicatedHero"},
              {"id": "hasEmail", "type": "branch", "cases": [{"if": {"field": "contact.email", "op": "exists"}, "goto": "lookup"}], "else": "askEmail"},
              {"id": "askEmail", "type": "ask", "question": "What is your email address?", "expect": "email",
               "saveTo": "contact.email", "maxRetries": 3, "retryMessage": "That does not look like an email address, please try again.",
               "successMessage": "Thanks!", "next": "lookup", "onExhausted": "toManager"},
              {"id": "lookup", "type": "lookup", "by": "email", "source": "directory",
               "map": {"CustomerType": "$.customerType"}, "next": "isVip", "onNotFound": "regular", "onError": "regular"},
              {"id": "isVip", "type": "branch", "cases": [{"if": {"field": "var.CustomerType", "op": "equals", "value": "VIP"}, "goto": "vip"}], "else": "regular"},
              {"id": "vip", "type": "assign", "to": {"inbox": "<vip inbox id>", "strategy": "least_busy"}},
              {"id": "regular", "type": "assign", "to": {"inbox": "<support inbox id>"}},
              {"id": "toManager", "type": "assign", "to": {"agent": "<manager agent id>"}}
             ]}
            """))

    static let dedicatedHeroRules = WorkflowTemplate(
        name: "dedicated-hero-rules",
        description: """
            A customer with a dedicated hero gets an automatic reply explaining what happens when the hero is away \
            (email and voicemail wait for the hero, chats go to the hero's team, calls to the first free agent) and is \
            sent to the hero. A customer without a hero who is a VIP in the CRM directory goes to the hero team inbox; \
            everyone else to support.
            """,
        placeholders: [
            .init(placeholder: "<hero team inbox id>", description: "The inbox of the team of dedicated agents."),
            .init(placeholder: "<support inbox id>", description: "The general support inbox."),
        ],
        workflow: json(
            """
            {"start": "hero",
             "steps": [
              {"id": "hero", "type": "branch", "cases": [{"if": {"dedicatedHero": "assigned"}, "goto": "explain"}], "else": "hasEmail"},
              {"id": "explain", "type": "reply", "body": "Hi {{contact.name}}, you are being connected with your dedicated agent. If they are away, emails and voicemails wait for them, chats go to their team and calls to the first available colleague.", "next": "toHero"},
              {"id": "toHero", "type": "assign", "to": "dedicatedHero"},
              {"id": "hasEmail", "type": "branch", "cases": [{"if": {"field": "contact.email", "op": "exists"}, "goto": "lookup"}], "else": "regular"},
              {"id": "lookup", "type": "lookup", "by": "email", "source": "directory",
               "map": {"CustomerType": "$.customerType"}, "next": "isVip", "onNotFound": "regular", "onError": "regular"},
              {"id": "isVip", "type": "branch", "cases": [{"if": {"field": "var.CustomerType", "op": "equals", "value": "VIP"}, "goto": "heroTeam"}], "else": "regular"},
              {"id": "heroTeam", "type": "assign", "to": {"inbox": "<hero team inbox id>"}},
              {"id": "regular", "type": "assign", "to": {"inbox": "<support inbox id>"}}
             ]}
            """))

    static let loyaltyPriorityQueues = WorkflowTemplate(
        name: "loyalty-priority-queues",
        description: """
            Callers are looked up in the CRM directory by phone: gold and platinum members wait in the priority queue, \
            silver members in the standard queue, everyone else in the general queue. Other channels go to support.
            """,
        placeholders: [
            .init(placeholder: "<priority queue id>", description: "A high-priority queue of the voice inbox."),
            .init(placeholder: "<standard queue id>", description: "A medium-priority queue of the voice inbox."),
            .init(placeholder: "<general queue id>", description: "The ordinary queue of the voice inbox."),
            .init(placeholder: "<support inbox id>", description: "Where other channels go."),
        ],
        workflow: json(
            """
            {"start": "isVoice",
             "steps": [
              {"id": "isVoice", "type": "branch", "cases": [{"if": {"field": "channel", "op": "equals", "value": "voice"}, "goto": "lookup"}], "else": "otherChannels"},
              {"id": "lookup", "type": "lookup", "by": "phone", "source": "directory",
               "map": {"Loyalty": "$.loyaltyStatus"}, "next": "tier", "onNotFound": "general", "onError": "general"},
              {"id": "tier", "type": "branch", "cases": [
                {"if": {"field": "var.Loyalty", "op": "in", "value": ["gold", "platinum"]}, "goto": "priority"},
                {"if": {"field": "var.Loyalty", "op": "equals", "value": "silver"}, "goto": "standard"}], "else": "general"},
              {"id": "priority", "type": "assign", "to": {"queue": "<priority queue id>"}},
              {"id": "standard", "type": "assign", "to": {"queue": "<standard queue id>"}},
              {"id": "general", "type": "assign", "to": {"queue": "<general queue id>"}},
              {"id": "otherChannels", "type": "assign", "to": {"inbox": "<support inbox id>"}}
             ]}
            """))

    /// The templates are literals in this file; a typo in one is a programming error caught by the tests.
    private static func json(_ text: String) -> JSONValue {
        (try? JSONCoding.decode(JSONValue.self, from: Array(text.utf8))) ?? .null
    }
}
