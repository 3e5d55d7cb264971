/// The retrieval evaluation's corpus: 50 help-centre articles and 30 questions, each with the
/// article that answers it. Written for this test; questions paraphrase rather than quote.
enum RetrievalCorpus {
    /// (document id, title, sentences of the body).
    static let documents: [(id: String, title: String, sentences: [String])] = [
        (
            "password-reset", "Resetting your password",
            [
                "To reset a forgotten password, open the sign-in page and click Forgot password.",
                "We email a reset link that stays valid for 30 minutes.",
                "Choose a new password of at least 12 characters.",
            ]
        ),
        (
            "two-factor", "Two-factor authentication",
            [
                "Protect your account with two-factor authentication.",
                "Scan the QR code with an authenticator app such as Google Authenticator and enter the six-digit code.",
                "Keep your recovery codes somewhere safe.",
            ]
        ),
        (
            "sso-saml", "Single sign-on with SAML",
            [
                "Enterprise plans can enable single sign-on through SAML 2.0.",
                "Upload your identity provider metadata XML and map the email attribute.",
                "Okta and Azure AD are supported.",
            ]
        ),
        (
            "invite-users", "Inviting teammates",
            [
                "Admins invite teammates from the Members page.",
                "Enter their email addresses and pick a role.",
                "Invitations expire after seven days and can be resent.",
            ]
        ),
        (
            "roles", "Roles and permissions",
            [
                "There are four roles: owner, admin, builder and member.",
                "Builders create and publish agents, members can only chat with published agents.",
                "Only owners manage billing.",
            ]
        ),
        (
            "delete-account", "Deleting your account",
            [
                "Deleting an account is permanent.",
                "The owner must first transfer ownership or delete the workspace.",
                "All conversations are erased within 30 days.",
            ]
        ),
        (
            "billing-invoices", "Invoices and receipts",
            [
                "Invoices are issued on the first day of each month.",
                "Download them as PDF from the Billing page.",
                "Receipts are emailed to the billing contact.",
            ]
        ),
        (
            "billing-plans", "Plans and pricing",
            [
                "The Starter plan includes 3 agents and 10,000 messages per month.",
                "Pro adds unlimited agents and priority support.",
                "Enterprise adds SSO and audit logs.",
            ]
        ),
        (
            "refunds", "Refund policy",
            [
                "We refund annual subscriptions within 14 days of purchase.",
                "Monthly plans are not refunded but you can cancel anytime.",
                "Contact support to request a refund.",
            ]
        ),
        (
            "cancel-subscription", "Cancelling a subscription",
            [
                "Cancel your subscription from Billing, then Manage plan.",
                "Your workspace stays active until the end of the paid period, then moves to the free tier.",
            ]
        ),
        (
            "payment-methods", "Payment methods",
            [
                "We accept Visa, Mastercard and American Express cards, and SEPA direct debit in Europe.",
                "Wire transfer is available for Enterprise invoices.",
            ]
        ),
        (
            "vat", "VAT and tax IDs",
            [
                "Add your VAT number on the Billing page so invoices show reverse charge.",
                "Sales tax is added for customers in the United States based on the billing address.",
            ]
        ),
        (
            "agent-create", "Creating an agent",
            [
                "Click New agent, give it a name, and pick a starting template.",
                "The flow editor opens with a start node.",
                "Save a draft at any time; publishing creates an immutable version.",
            ]
        ),
        (
            "agent-versions", "Agent versions and rollback",
            [
                "Each publish creates a new immutable version of the agent.",
                "To undo a bad release, open Versions and roll back to an earlier version with one click.",
            ]
        ),
        (
            "flow-nodes", "Flow node types",
            [
                "Flows are built from nodes: LLM call, tool call, condition, knowledge base lookup and human handoff.",
                "Connect nodes with edges to define the order of steps.",
            ]
        ),
        (
            "tools-http", "HTTP tools",
            [
                "An HTTP tool calls an external REST API from a flow.",
                "Configure the method, URL template and headers.",
                "Secrets such as API keys are encrypted at rest.",
            ]
        ),
        (
            "kb-upload", "Uploading documents to the knowledge base",
            [
                "Upload PDF, Markdown or HTML files to the knowledge base.",
                "Documents are split into chunks and indexed for search.",
                "Large files up to 20 MB are accepted.",
            ]
        ),
        (
            "kb-search-modes", "Knowledge base search modes",
            [
                "Search supports lexical full-text matching and vector similarity with embeddings.",
                "Hybrid ranking fuses both with reciprocal rank fusion.",
                "Hybrid is the default.",
            ]
        ),
        (
            "rate-limits", "API rate limits",
            [
                "The public API allows 600 requests per minute per workspace.",
                "When you exceed the limit you receive status 429.",
                "The Retry-After header tells you when to try again.",
            ]
        ),
        (
            "api-keys", "API keys",
            [
                "Create API keys under Settings, Developer.",
                "Each key belongs to a workspace and can be revoked at any time.",
                "Never share keys in client-side code.",
            ]
        ),
        (
            "webhooks", "Webhooks",
            [
                "Webhooks notify your server when conversations end or tickets change.",
                "Each delivery is signed with HMAC-SHA256; verify the signature header before trusting the payload.",
            ]
        ),
        (
            "slack", "Slack integration",
            [
                "Connect Slack to post agent notifications into a channel.",
                "Install the app from the Integrations page and choose the channel for alerts.",
            ]
        ),
        (
            "teams", "Microsoft Teams integration",
            [
                "Send notifications to Microsoft Teams with an incoming webhook connector.",
                "Paste the connector URL in Integrations and test the connection.",
            ]
        ),
        (
            "zammad", "Zammad ticketing",
            [
                "Connect a Zammad helpdesk so agents can open tickets for customers.",
                "Enter your Zammad URL and an access token; tickets sync both ways.",
            ]
        ),
        (
            "ticket-priority", "Ticket priorities",
            [
                "Tickets have four priorities: low, normal, high and urgent.",
                "Urgent tickets page the on-call engineer and must be answered within one hour.",
            ]
        ),
        (
            "sla", "Support SLA",
            [
                "Pro customers get a first response within 8 business hours.",
                "Enterprise customers have a 1 hour response target for urgent incidents, around the clock.",
            ]
        ),
        (
            "data-export", "Exporting your data",
            [
                "Export all conversations and agents as a ZIP archive of JSON files from Settings, Data.",
                "Large exports are prepared in the background and emailed as a download link.",
            ]
        ),
        (
            "data-retention", "Data retention",
            [
                "Conversation transcripts are kept for 12 months by default.",
                "Admins can shorten retention to 30 or 90 days.",
                "Deleted data is purged from backups after 35 days.",
            ]
        ),
        (
            "gdpr", "GDPR and data processing",
            [
                "We act as a data processor under GDPR.",
                "Sign the data processing agreement in Settings, Legal.",
                "Data for EU workspaces is stored in Frankfurt.",
            ]
        ),
        (
            "audit-log", "Audit log",
            [
                "The audit log records sign-ins, role changes, agent publishes and API key events.",
                "Enterprise admins can filter it by user and export it as CSV.",
            ]
        ),
        (
            "status-page", "Service status",
            [
                "Check status.example.com for outages and maintenance windows.",
                "Subscribe to receive incident updates by email or SMS.",
            ]
        ),
        (
            "browser-support", "Supported browsers",
            [
                "The web app supports the latest two versions of Chrome, Firefox, Safari and Edge.",
                "Internet Explorer is not supported.",
            ]
        ),
        (
            "mobile-app", "Mobile app",
            [
                "Our iOS and Android apps let you chat with agents and read notifications on the go.",
                "Push notifications can be muted per workspace.",
            ]
        ),
        (
            "language-support", "Languages",
            [
                "Agents can converse in over 40 languages.",
                "The interface is available in English, German, French and Spanish; change it under Profile, Language.",
            ]
        ),
        (
            "dark-mode", "Dark mode",
            [
                "Switch between light and dark themes under Profile, Appearance.",
                "Choose System to follow your operating system setting.",
            ]
        ),
        (
            "notifications-email", "Email notifications",
            [
                "Choose which events send you emails under Profile, Notifications.",
                "Daily digests bundle low priority updates into one message.",
            ]
        ),
        (
            "workspace-rename", "Renaming a workspace",
            [
                "Owners can rename the workspace and change its URL slug under Settings, General.",
                "Old links redirect for 90 days.",
            ]
        ),
        (
            "ip-allowlist", "IP allow-listing",
            [
                "Enterprise workspaces can restrict sign-in to a list of IP ranges in CIDR notation.",
                "Requests from other addresses are rejected.",
            ]
        ),
        (
            "embedding-models", "Embedding models",
            [
                "The knowledge base uses a built-in hashed embedding model offline.",
                "An OpenAI-compatible embedding model is used when configured.",
                "Changing the model requires re-indexing documents.",
            ]
        ),
        (
            "llm-providers", "LLM providers",
            [
                "Route chat completions to OpenAI, Azure OpenAI or a local Ollama server.",
                "Set the base URL and API key per workspace under Settings, Models.",
            ]
        ),
        (
            "token-usage", "Token usage reports",
            [
                "The Usage page shows prompt and completion tokens per day and per model.",
                "Export usage as CSV to reconcile with your provider's bill.",
            ]
        ),
        (
            "conversation-handoff", "Human handoff",
            [
                "A handoff node transfers the conversation to a human operator.",
                "The operator sees the full transcript and can return control to the agent afterwards.",
            ]
        ),
        (
            "prompt-templates", "Prompt templates",
            [
                "Prompt templates support variables in double curly braces, such as {{customer_name}}.",
                "Preview the rendered prompt before publishing the agent.",
            ]
        ),
        (
            "testing-agents", "Testing agents",
            [
                "Use the playground to test a draft agent before publishing.",
                "Each run shows the steps taken, tool calls and the tokens used.",
            ]
        ),
        (
            "scheduling", "Scheduled runs",
            [
                "Agents can run on a schedule written as a cron expression, for example every weekday at 9:00.",
                "Scheduled runs appear in the run history.",
            ]
        ),
        (
            "run-history", "Run history",
            [
                "Run history lists every execution of an agent with its status, duration and cost.",
                "Click a run to replay its steps.",
            ]
        ),
        (
            "error-retry", "Retries of failed steps",
            [
                "When a tool call fails with a temporary error the step is retried.",
                "It is tried up to three times with exponential backoff.",
                "Permanent errors stop the run.",
            ]
        ),
        (
            "outbox", "Notification delivery",
            [
                "Notifications are written to a durable outbox and delivered with retries.",
                "Failed deliveries are retried for 24 hours before being marked dead.",
            ]
        ),
        (
            "sandbox", "Sandbox workspaces",
            [
                "Create a sandbox workspace to try changes without affecting production.",
                "Sandboxes are free and deleted after 30 days of inactivity.",
            ]
        ),
        (
            "keyboard-shortcuts", "Keyboard shortcuts",
            [
                "Press Ctrl+K to open the command palette, Ctrl+Enter to send a message and Esc to close dialogs.",
                "Press ? to see every shortcut.",
            ]
        ),
    ]

    /// (question, id of the document that answers it).
    static let questions: [(question: String, answer: String)] = [
        ("I forgot my password, how do I get a new one?", "password-reset"),
        ("set up an authenticator app for login codes", "two-factor"),
        ("configure SAML single sign-on with Okta", "sso-saml"),
        ("how to add a colleague to my workspace", "invite-users"),
        ("what can a builder do compared to a member", "roles"),
        ("where can I download last month's invoice PDF", "billing-invoices"),
        ("can I get my money back on an annual subscription", "refunds"),
        ("which credit cards do you accept", "payment-methods"),
        ("how do I roll back an agent to a previous version", "agent-versions"),
        ("call an external REST API from my flow", "tools-http"),
        ("what file types can I upload to the knowledge base", "kb-upload"),
        ("I get status 429 too many requests from the API", "rate-limits"),
        ("how do I verify the webhook signature", "webhooks"),
        ("post alerts to a Slack channel", "slack"),
        ("open tickets in our Zammad helpdesk", "zammad"),
        ("how fast do you respond to urgent incidents", "sla"),
        ("export all my conversations as JSON", "data-export"),
        ("how long are conversation transcripts kept", "data-retention"),
        ("sign the GDPR data processing agreement", "gdpr"),
        ("is Internet Explorer supported", "browser-support"),
        ("switch the app to a dark theme", "dark-mode"),
        ("restrict sign-in to our office IP range", "ip-allowlist"),
        ("use a local Ollama server for chat", "llm-providers"),
        ("transfer the chat to a human operator", "conversation-handoff"),
        ("use variables like the customer name in prompts", "prompt-templates"),
        ("run an agent every weekday morning on a cron schedule", "scheduling"),
        ("what happens when a tool call fails temporarily", "error-retry"),
        ("how long are failed notification deliveries retried", "outbox"),
        ("keyboard shortcut to open the command palette", "keyboard-shortcuts"),
        ("see token usage per model per day", "token-usage"),
    ]
}
