/** `umbral help`. Kept by hand so it reads well; test/cli/usage.test.ts checks it names every option. */
export const USAGE = `Usage: umbral <command> [options]

Operator commands for Umbral. They read the same environment as the server
(DATA_DIR, DATABASE_URL, ISSUER, ...) and apply pending migrations first.
While a server holds the embedded database in DATA_DIR, commands reach it
through the server's socket (that server has applied the migrations);
otherwise they open DATA_DIR themselves.

Clients
  umbral clients add --client-id ID [options]
      --client-secret SECRET           at least 32 characters; omit it to have one
                                       generated (printed once, stored hashed)
      --redirect-uri URI               repeat for several; needed for authorization_code
      --post-logout-redirect-uri URI   repeat for several
      --backchannel-logout-uri URI
      --grant-types LIST               comma-separated: authorization_code,
                                       refresh_token, client_credentials
                                       (default: authorization_code,refresh_token)
      --first-party                    an own app: users are not asked for consent
      --single-session                 signing in here ends the user's other sessions
      --require-mfa                    every sign-in here needs a second factor; users
                                       without one enroll it during the sign-in
      --public                         no secret (browser or native app; PKCE only)
      --name NAME                      shown to users on the login and consent pages
      --jwks-uri URI                   where the portal publishes its public keys: it then
                                       signs in to the token endpoint with private_key_jwt
                                       (no secret) and may sign request objects
      --jwks-file PATH                 the same, with the keys in a JWKS file (public keys only)
      --id-token-signing-alg ALG       RS256 (default), PS256, ES256 or EdDSA; also signs
                                       its back-channel logout tokens
      --strict-id-token-claims         ID tokens carry only sub, acr, amr, auth_time, sid
                                       and claims asked for by name; email, name and the
                                       other scope claims only in userinfo
      --pkce required|optional         optional: a confidential client may omit PKCE when
                                       it sends a nonce (default: required)
      --organization required|optional required: every sign-in is for an active organization
                                       the person belongs to (or it cannot finish);
                                       optional: its claims when there is one (default: none)
      --collect-company                a person without a company gives its data (country,
                                       tax id, size, segment, address) after sign-up, email
                                       verification and any second factor, which creates the
                                       company with them as its admin; implies
                                       --organization required unless given
      --initiate-login-uri URI         https: where the portal starts its own sign-in
                                       (invitations land people there)
      --logo-uri URI                   the portal's logo, in the header of its sign-in pages
      --client-uri URI                 the portal's home page
      --tos-uri URI / --policy-uri URI its terms and privacy policy, linked in the footer
                                       of its sign-in pages (URIs: https, http on loopback)
      --brand-color #RRGGBB            its primary buttons' colour; white text on it must
                                       reach 4.5:1 contrast (WCAG AA), or it is refused
      --admin-scopes LIST              an automation client of the Admin API: comma-separated
                                       clients:read, clients:write, users:read, users:write,
                                       orgs:read, orgs:write, roles:write, keys:write,
                                       audit:read, webhooks:write; implies client_credentials
                                       (its only grant unless --grant-types says more); it takes
                                       tokens with resource=urn:umbral:admin
  umbral clients list                  all clients as JSON, without secrets
  umbral clients show --client-id ID   one client, with its secrets' dates (never their values)
  umbral clients update --client-id ID [settings of clients add] [--clear NAME]...
                                       the settings given replace the stored ones (a list
                                       option replaces the whole list); its id, secret and
                                       kind (public, secret, keys) do not change
      --clear NAME                     removes a setting or turns a switch off: name,
                                       logo-uri, brand-color, first-party, admin-scopes, ...
  umbral clients rotate-secret --client-id ID [--keep-old-for 7d]
                                       a new secret, printed once; the old one keeps working
      --keep-old-for DURATION          30m, 12h, 7d ... at most 90d, or 0 to stop it at once
                                       (default: 7d)
  umbral clients remove --client-id ID
                                       also revokes its tokens, codes and grants
  umbral clients registration-token [--expires-in 1d]
                                       one initial access token for dynamic registration
                                       (CLIENT_REGISTRATION=token): it registers one client,
                                       is printed once and stored hashed
      --expires-in DURATION            30m, 12h, 1d, 7d ... at most 30d (default: 1d)

Users
  umbral users add --email EMAIL (--password PASSWORD | --password-stdin) [options]
      --password-stdin                 read the password from the first line of stdin
                                       (hidden when typed at a terminal); keeps it out
                                       of shell history and the process list
      --name NAME
      --phone PHONE                    E.164, e.g. +5215512345678
      --verified                       mark the email address as verified
  umbral users list                    all users as JSON, without password hashes
  umbral users search [--query TEXT] [--disabled | --enabled] [--limit N] [--cursor C]
                                       by part of the email or name, 50 a page (at most
                                       200); next_cursor goes to --cursor for the next
  umbral users show --email EMAIL      the user with their factors, linked identities,
                                       organizations and number of live sessions
  umbral users update --email EMAIL [--name NAME] [--new-email EMAIL] [--email-verified]
                      [--phone PHONE | --no-phone]
                                       a new email is unverified unless --email-verified
  umbral users disable --email EMAIL   no sign-in by any method; their sessions end (their
                                       portals told by back-channel logout) and their
                                       refresh and access tokens stop working
  umbral users enable --email EMAIL    lets a disabled user sign in again
  umbral users remove --email EMAIL    deletes the user, their sessions, tokens, factors,
                                       linked identities and memberships; refused while
                                       they are the only admin of an active organization
  umbral users sessions --email EMAIL [--end [--session UID]]
                                       their live sessions as JSON (/account/sessions);
                                       --end ends them all, or the one --session names
  umbral users reset-mfa --email EMAIL removes the user's second factors, recovery
                                       codes and remembered devices (lost phone);
                                       the user is told by email
  umbral users send-password-reset --email EMAIL
                                       emails them a reset link (valid 1 hour)

Domains (sign-in with Google or Microsoft by email domain)
  umbral domains add --domain DOMAIN --provider google|microsoft
                                       an email at DOMAIN entered on the login page goes
                                       straight to that provider (its account preselected)
  umbral domains list                  all routed domains as JSON
  umbral domains remove --domain DOMAIN

Organizations (companies of the portals)
  umbral orgs add --name NAME [options]
                                       prints {id, slug, status} as JSON
      --slug SLUG                      default: made from the name ("Acme S.A." -> acme-s-a)
      --country CC                     ISO 3166-1 alpha-2 (CL, MX, BR ...)
      --tax-id ID                      checked for --country: CUIT (AR), CNPJ (BR, also
                                       alphanumeric), RUT (CL, UY), NIT (CO), RUC (EC,
                                       PE), RFC (MX; a wrong check digit only warns);
                                       one company per tax id
      --legal-name NAME                the registered name (razón social)
      --employees BAND                 1-10, 11-50, 51-200, 201-1000 or 1000+
      --segment SEGMENT                one of COMPANY_SEGMENTS
      --postal-code CODE               checked for --country (AR, BR, CL, CO, EC, MX,
                                       PE, UY)
      --address LINE                   street
      --address-number N
      --address-complement TEXT        floor, office...
      --activates-at ISO-8601          when the contract starts (default: now), with an
                                       offset if it has a time: 2027-03-01T09:00:00-03:00
      --ends-at ISO-8601               when it ends (after --activates-at, not in the past)
      --admin EMAIL                    repeat for several: each gets the welcome email
                                       with a sign-up link at the activation (at once if
                                       already active)
      --seats N                        members plus pending invitations, at most N
      --home-client CLIENT_ID          a registered client: where members land
      --logo-uri URL                   its own logo (https), shown instead of the
                                       portal's on its invitation pages
      --require-mfa                    members sign in with a second factor
      --single-session                 one active session per member
      --sign-in-method M               repeat: password, google, microsoft, passkey
                                       (default: all four)
      --microsoft-tenant TID           repeat: its Microsoft users join as members
      --google-domain HD               repeat: its Google Workspace users join as members
  umbral orgs list [--json]
  umbral orgs show --org SLUG [--json] status, dates, policy, bindings, members and
                                       pending invitations
  umbral orgs update --org SLUG [options of orgs add]
                                       changes what is given (--admin invites more
                                       admins; a new --country checks the stored tax id
                                       and postal code again); --no-country, --no-tax-id,
                                       --no-legal-name, --no-employees, --no-segment,
                                       --no-postal-code, --no-address,
                                       --no-address-number, --no-address-complement,
                                       --no-ends-at, --no-seats, --no-home-client,
                                       --no-logo-uri,
                                       --no-require-mfa, --no-single-session,
                                       --no-microsoft-tenants and --no-google-domains clear
  umbral orgs suspend --org SLUG       holds it now: members' sessions at portals that
                                       require an organization end (back-channel logout)
  umbral orgs resume --org SLUG        lifts the hold
  umbral orgs remove --org SLUG        deletes it with its memberships and invitations
  umbral orgs invite --org SLUG --email EMAIL [--role R ...] [--expires-in 7d]
                                       mailed at once if active; while scheduled it is
                                       mailed at the activation. --role admin designates
                                       an admin (default role: member); --expires-in up
                                       to 30d, counted from the mail
  umbral orgs revoke-invitation --org SLUG --email EMAIL
  umbral orgs members --org SLUG [--json]
  umbral orgs remove-member --org SLUG --email EMAIL
                                       also ends their sessions at the portals that
                                       require or use an organization; the last admin
                                       of an active organization stays

Roles (the same for every organization)
  umbral roles add --name NAME [--permission P ...] [--description TEXT]
                                       e.g. --name supervisor --permission conversations:assign
  umbral roles list [--json]
  umbral roles remove --name NAME      refused for admin and member, and while in use

Operators (who may sign in to the console at ISSUER/admin)
  umbral operators add --email EMAIL   grants an existing user; they sign in with a
                                       passkey or an authenticator app
  umbral operators list                all operators as JSON
  umbral operators remove --email EMAIL

Webhooks (signed POSTs of Umbral's events, Standard Webhooks)
  umbral webhooks add --url URL --events TYPES [--description TEXT] [--disabled]
                                       prints the endpoint and its secret (whsec_..., shown
                                       this once). URL: https (http only to a loopback host,
                                       and private addresses only, with
                                       ALLOW_PRIVATE_NETWORK_FETCH). TYPES, comma-separated:
                                       user.created, user.signed_in, user.email_changed,
                                       user.disabled, user.deleted, org.member_added,
                                       org.member_removed, org.activated, org.ended
  umbral webhooks list                 all endpoints as JSON, without secrets
  umbral webhooks update --id ID [--url URL] [--events TYPES] [--description TEXT]
                         [--enable | --disable]
  umbral webhooks remove --id ID       with its queued deliveries and history
  umbral webhooks deliveries --id ID [--limit N]
                                       the endpoint's deliveries, newest first (default 50),
                                       each with its attempts: time, status code or error,
                                       duration

Keys
  umbral keys rotate                   new signing keys (RS256, PS256, ES256, EdDSA) and
                                       cookie key; running servers use them after a restart

Database
  umbral migrate                       apply pending migrations and list them

  umbral help, umbral --help           this text

Results are printed to stdout as JSON (list, show and members print a table
unless given --json). Exit codes: 0 success, 1 a rejected
value (nothing is changed) or another failure, 2 unknown command or option.
`;

/** Appended to command-line mistakes. */
export const HELP_POINTER = 'Run "umbral help" for usage.';
