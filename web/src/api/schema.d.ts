/**
 * Generated from Haven's OpenAPI document by `npm run api-types`; do not edit.
 */


/** OneOf type helpers */
type Without<T, U> = { [P in Exclude<keyof T, keyof U>]?: never };
type XOR<T, U> = (T | U) extends object ? (Without<T, U> & U) | (Without<U, T> & T) : T | U;
type OneOf<T extends any[]> = T extends [infer Only] ? Only : T extends [infer A, infer B, ...infer Rest] ? OneOf<[XOR<A, B>, ...Rest]> : never;

export interface paths {
  "/api/v1/health": {
    /**
     * Whether the Haven process answers
     * @description Liveness: answers 200 while the process can answer HTTP at all, without touching the database (use `/api/v1/ready` for that).
     */
    get: operations["getHealth"];
  };
  "/api/v1/ready": {
    /**
     * Whether this Haven process can serve requests
     * @description Readiness: the database answers within 1000 ms, its migrations are this version's, and the notification worker runs where this process is meant to run it. 503 `not_ready` names the checks that failed.
     */
    get: operations["getReady"];
  };
  "/api/v1/setup": {
    /**
     * Whether first-run setup is still open
     * @description The web app shows its setup page while `needed` is true.
     */
    get: operations["getSetup"];
    /**
     * Create the first organisation, its first school and its first Owner
     * @description Refused with 409 once any organisation exists on this installation.
     */
    post: operations["postSetup"];
  };
  "/api/v1/organisation": {
    /** The caller's organisation */
    get: operations["getOrganisation"];
    /**
     * Rename the organisation or change its settings (Owner)
     * @description `retirementAge`: the normal retirement age of its staff, a whole number 55 to 75 (default 67); an allegation is kept until its subject reaches it, or ten years, whichever is later. Fields not named are kept.
     */
    patch: operations["patchOrganisation"];
  };
  "/api/v1/schools": {
    /** The organisation's schools */
    get: operations["getSchools"];
    /**
     * Add a school (Owner)
     * @description The school starts with its "All students" group, a Safeguarding Team and an "Allegations" group whose one member, the allegations manager, is `allegationsManagerId` (a live user of the organisation; 404 naming the field otherwise) or else the organisation's first Owner.
     */
    post: operations["postSchools"];
  };
  "/api/v1/schools/{id}": {
    /** One school */
    get: operations["getSchoolsById"];
    /** Rename a school (Owner) */
    patch: operations["patchSchoolsById"];
  };
  "/api/v1/schools/{id}/settings": {
    /** A school's settings, each with its default where never set */
    get: operations["getSchoolsByIdSettings"];
    /**
     * Change school settings (Admin at the school)
     * @description Any of: `requireMfaForSensitive` (reading child-protection and allegation records needs a recent two-factor step-up; default on), `requireMfaEnrolment` (whoever holds a clearance, or Deputy DSL or higher, where this school is concerned must enrol two-factor sign-in before using Haven; default on; applies to open sessions from their next request), `digestTime` (when the daily digest email goes out, "HH:MM" 24-hour, Europe/London; default "16:00"). Settings not named are kept. Answers every setting.
     */
    patch: operations["patchSchoolsByIdSettings"];
  };
  "/api/v1/school-groups": {
    /** The organisation's school groups */
    get: operations["getSchoolGroups"];
    /** Create a school group (Owner) */
    post: operations["postSchoolGroups"];
  };
  "/api/v1/school-groups/{id}": {
    /** One school group */
    get: operations["getSchoolGroupsById"];
    /** Delete a school group (Owner) */
    delete: operations["deleteSchoolGroupsById"];
    /** Rename a school group or change its schools (Owner) */
    patch: operations["patchSchoolGroupsById"];
  };
  "/api/v1/auth/login": {
    /**
     * Sign in
     * @description Sets an HttpOnly session cookie and also returns the token for `Authorization: Bearer`. Requests signed in by cookie that change anything must send `x-csrf-token` with the returned `csrfToken`. With two-factor sign-in on, `totp` (the current 6-digit code, or an unused recovery code) is needed too: without it the answer is 401 `totp_required`, with a wrong or already used one 401 `invalid_code`. After 10 failed attempts (passwords or codes) for an email within 15 minutes, or 50 from one client address whatever the emails, further attempts answer 429 (`too_many_attempts`, `too_many_attempts_from_address`) with `Retry-After` (seconds until the oldest counted failure leaves the window); more than 60 requests a minute from one address answer 429 `rate_limited` (each configurable). An email may have an account in more than one organisation: when the password is right for several, the answer is 409 `choose_organisation` with `organisations: [{ id, name }]` (only those), and the same request with `organisationId` signs in to that one. `mfaEnrolmentRequired: true` when a school asks this user (a holder of a clearance, or of Deputy DSL or higher there) to enrol two-factor sign-in and they have not: the session then reaches only `GET /me`, `POST /me/totp`, `POST /me/totp/confirm` and `POST /auth/logout` (anything else is 403 `mfa_enrolment_required`) until enrolment is confirmed.
     */
    post: operations["postAuthLogin"];
  };
  "/api/v1/auth/logout": {
    /** Sign out: ends this session */
    post: operations["postAuthLogout"];
  };
  "/api/v1/me": {
    /** The caller, with roles per scope */
    get: operations["getMe"];
  };
  "/api/v1/me/totp": {
    /**
     * Start setting up two-factor sign-in (TOTP)
     * @description Answers a new base32 secret (SHA-1, 6 digits, 30 s), its `otpauth://` URI and that URI as a QR code (PNG data URL). Calling it again before confirming restarts with a new secret. 409 `conflict` once two-factor sign-in is on.
     */
    post: operations["postMeTotp"];
    /**
     * Turn two-factor sign-in off
     * @description Needs a current code or an unused recovery code (wrong or used: 401 `invalid_code`, counted like a failed sign-in). The recovery codes are deleted too. 409 `totp_not_enabled` if it is not on.
     */
    delete: operations["deleteMeTotp"];
  };
  "/api/v1/me/totp/confirm": {
    /**
     * Turn two-factor sign-in on with a code from the app
     * @description Answers 10 one-time recovery codes, shown only this once. From now on sign-in needs a code, and this session counts as having passed TOTP. A wrong code answers 400 `invalid_code`; 409 `conflict` if nothing is pending or it is already on.
     */
    post: operations["postMeTotpConfirm"];
  };
  "/api/v1/auth/step-up": {
    /**
     * Pass a two-factor check in this session
     * @description With a current code from the authenticator app, this session counts as having passed TOTP from now (`mfaAt`), as reading child-protection and allegation records needs. A wrong or already used code answers 401 `invalid_code` and counts like a failed sign-in; 409 `totp_not_enabled` without two-factor sign-in.
     */
    post: operations["postAuthStepUp"];
  };
  "/api/v1/users": {
    /**
     * List users (Admin), each with the roles they hold and where each comes from
     * @description `q` searches names and emails; `inGroup=none` lists users in no user group (orphaned); `inGroup=<id>` the members of one group. `status`: `invited` (never signed in nor set a password), `active`, `disabled`, `enabled` (invited or active) or `all` (the default). `role` lists those holding exactly that role now (directly or through a group; a Deputy DSL is not listed under `dsl`); `scopeType` with `scopeId` those holding it (or, without `role`, any role) at a scope covering that one: the organisation, a school group holding the school, or the scope itself.
     */
    get: operations["getUsers"];
    /**
     * Add a user (Admin); new users hold only Member until given a role
     * @description Give a `password`, or `invite: true` to email the person a link to choose their own (valid 7 days, once; `invitation` in the answer), or neither (they cannot sign in until invited or given single sign-on). Without email set up (`HAVEN_SMTP_URL`), `invite` answers 409 `email_off` and adds nobody.
     */
    post: operations["postUsers"];
  };
  "/api/v1/users/import": {
    /**
     * Import staff from CSV as the MIS exports it (Admin); new people hold only Member
     * @description Send `text/csv` with an email column ("Work Email", "Email"...) and a name ("Name", or "Forename" and "Surname", preferred names first): docs/imports.md. A person whose email the organisation holds keeps their account and has their name updated (an edit, audited); the others are added holding only Member. Columns not used ("Title", "Staff Code"...) are listed in `ignoredColumns`. `dryRun`, `onError` and `runId` work as for the students import; `invite=true` emails each new person an invitation (409 `email_off` without email set up). Every import is audited (`import.finish`: the run, its kind, status and counts).
     */
    post: operations["postUsersImport"];
  };
  "/api/v1/users/{id}": {
    /** One user, with the roles they hold and where each comes from (Admin) */
    get: operations["getUsersById"];
    /** Remove a user from the organisation (Owner) */
    delete: operations["deleteUsersById"];
    /** Rename, disable or re-enable a user (Admin); disabling ends their sessions */
    patch: operations["patchUsersById"];
  };
  "/api/v1/me/password": {
    /** Change my password; my other sessions end */
    post: operations["postMePassword"];
  };
  "/api/v1/users/{id}/totp": {
    /** Whether a user has two-factor sign-in on, and whether I may reset it (DSL) */
    get: operations["getUsersByIdTotp"];
    /**
     * Reset another person’s two-factor sign-in (Owner; DSL for staff of their schools)
     * @description For a lost or stolen phone: deletes their enrolment and recovery codes and ends every session of theirs; audited, and raised as a security alert to the Owners and DSLs over where they hold roles. They sign in with their password alone, and set two-factor up again where their school asks. An Owner resets anyone’s; a DSL that of people holding roles only at scopes where the DSL holds DSL or Owner, and none above their own (403 `forbidden`). Never one’s own (403 `totp_reset_own`: use `DELETE /api/v1/me/totp` with a code). 409 `totp_not_enabled` when it is not on.
     */
    delete: operations["deleteUsersByIdTotp"];
  };
  "/api/v1/role-grants": {
    /** Current role grants, optionally of one user or user group (Admin) */
    get: operations["getRoleGrants"];
    /**
     * Grant a role at a scope to a user or user group
     * @description Owner can only be granted by an Owner whose scope covers the target; other roles by an Admin or higher there, and to a user group only by an Admin at its home. Nobody grants a role to themselves or to a group they are in (403 `self_grant`), an Owner at the organisation aside. `member` is not grantable. `reason` is kept with the grant and in the audit log.
     */
    post: operations["postRoleGrants"];
  };
  "/api/v1/role-grants/{id}": {
    /** Revoke a role grant */
    delete: operations["deleteRoleGrantsById"];
  };
  "/api/v1/audit-log": {
    /**
     * Changes and refused requests, newest first (Admin; of their own schools)
     * @description Admin or higher at the organisation reads every row; an Admin of some schools (or school groups) reads the rows that belong to those schools: their children, records, categories, student groups, user groups homed there, role grants there, the schools themselves, and people whose every role is there (with their sign-ins, exports and refused requests). `schoolId` narrows to one school the caller oversees (403 otherwise). Rows about records the caller may not read are left out.
     */
    get: operations["getAuditLog"];
  };
  "/api/v1/access-log": {
    /**
     * Reads of sensitive records and refused reads, with the record and the way in that allowed each
     * @description Admin or higher at the organisation reads every row; an Admin of some schools (or school groups) reads the rows that belong to those schools: their children, records, categories, student groups, user groups homed there, role grants there, the schools themselves, and people whose every role is there (with their sign-ins, exports and refused requests). `schoolId` narrows to one school the caller oversees (403 otherwise). Rows about records the caller may not read are left out.
     */
    get: operations["getAccessLog"];
  };
  "/api/v1/students": {
    /**
     * The students the caller can see, by family name
     * @description `q` matches every word against the names, or a UPN exactly. Only students the caller can see are ever listed (spec section 3).
     */
    get: operations["getStudents"];
    /** Add a student (Admin at the school) */
    post: operations["postStudents"];
  };
  "/api/v1/students/count": {
    /** How many students the caller can see, with the same filters as the list */
    get: operations["getStudentsCount"];
  };
  "/api/v1/students/export": {
    /** CSV of the students the caller can see (the export is logged) */
    get: operations["getStudentsExport"];
  };
  "/api/v1/students/import": {
    /**
     * Import students from CSV as the school's MIS exports it (Admin)
     * @description Send `text/csv`. The headings of SIMS, Arbor and Bromcom exports are read ("Legal Forename", "Preferred Surname", "DOB", "Reg Group"...) as well as Haven's own (givenName, familyName, school or schoolId, upn, preferredName, dateOfBirth, yearGroup, house, senStatus, flags, tags, onRoll): docs/imports.md. Dates are UK dates (14/03/2016), year groups "9", "Y9", "Year 9" or "R". Columns not used are listed in `ignoredColumns`. A child whose UPN the organisation holds is updated (a revision, audited as an edit), not refused. `schoolId` is the school of every row without a School column (needed when the organisation has several schools). With `dryRun=true` nothing is written and every problem is listed row by row; without it, any problem means nothing is written (400, the problems in `problems`) unless `onError=skip`, which writes the good rows and lists the rest. `runId` (from `POST /api/v1/imports`) lets a page follow the progress of a large file. Every import is audited (`import.finish`: the run, its kind, status and counts).
     */
    post: operations["postStudentsImport"];
  };
  "/api/v1/students/{id}": {
    /** One student (404 if the caller cannot see them) */
    get: operations["getStudentsById"];
    /** Soft-delete a student (Admin at the school) */
    delete: operations["deleteStudentsById"];
    /** Edit a student (Admin at the school) */
    patch: operations["patchStudentsById"];
  };
  "/api/v1/imports": {
    /**
     * Make an import run to follow before its file is sent (Admin)
     * @description Answers a run in `waiting` (audited as `import.start`); pass its id as `runId` to the import and poll `GET /api/v1/imports/:id` while the file uploads, is checked and is written. Making a run needs what importing its kind needs: `students.create` for `students` and `oneroster`, `users.manage` for `staff` (403 otherwise).
     */
    post: operations["postImports"];
  };
  "/api/v1/imports/{id}": {
    /**
     * An import run: its progress, counts and problems (its starter only)
     * @description Only the person who started the run reads it, while they may still import its kind (`students.create` for `students` and `oneroster`, `users.manage` for `staff`); anyone else's run, or another organisation's, is not found (404). The problems, unused columns and failure are blanked 30 days after the run ended (`problemsClearedAt`); the status and counts stay.
     */
    get: operations["getImportsById"];
  };
  "/api/v1/student-groups": {
    /**
     * The organisation's student groups
     * @description `memberCount` counts only the members the caller can see.
     */
    get: operations["getStudentGroups"];
    /**
     * Create a student group (Admin)
     * @description `all`: every student on roll in the school, or in the organisation when `schoolId` is null. `manual`: the `studentIds` given. `rule`: the students the rule matches, kept up to date as students change.
     */
    post: operations["postStudentGroups"];
  };
  "/api/v1/student-groups/preview": {
    /** Who a rule would match: how many of them the caller can see, and the first few */
    post: operations["postStudentGroupsPreview"];
  };
  "/api/v1/student-groups/{id}": {
    /** One student group */
    get: operations["getStudentGroupsById"];
    /** Delete a student group; links to it end */
    delete: operations["deleteStudentGroupsById"];
    /** Rename a student group or change its rule (members follow at once) */
    patch: operations["patchStudentGroupsById"];
  };
  "/api/v1/student-groups/{id}/linked-user-groups": {
    /**
     * The user groups linked to this student group, whose members see its children
     * @description Only the groups the caller may see (the user-group policy), with their home, member count, since when and the link's rationale. `otherGroups`: for an Admin over the student group, how many more are linked from homes they do not administer; null for others.
     */
    get: operations["getStudentGroupsByIdLinkedUserGroups"];
  };
  "/api/v1/student-groups/{id}/students": {
    /** The group's members that the caller can see */
    get: operations["getStudentGroupsByIdStudents"];
    /** Put students in a manual group (Admin) */
    post: operations["postStudentGroupsByIdStudents"];
  };
  "/api/v1/student-groups/{id}/students/{studentId}": {
    /** Take a student out of a manual group (Admin) */
    delete: operations["deleteStudentGroupsByIdStudentsByStudentId"];
  };
  "/api/v1/user-groups": {
    /** User groups the caller may see: those homed where they are Admin, and those they own or belong to */
    get: operations["getUserGroups"];
    /**
     * Create a user group (Admin at its home scope)
     * @description The group is administered from `homeScope` (organisation, school group or school), where the caller must be Admin or higher. Omitted: the organisation for an Admin there, otherwise the one broadest scope the caller administers; when there is no single one, 400 naming `homeScope`.
     */
    post: operations["postUserGroups"];
  };
  "/api/v1/user-groups/homes": {
    /** Where the caller may home a new group (scopes where they are Admin), and the default */
    get: operations["getUserGroupsHomes"];
  };
  "/api/v1/user-groups/{id}": {
    /** A user group with its owners, grants, links, clearances and what the caller may do */
    get: operations["getUserGroupsById"];
    /** Delete a group: everything it conferred ends (Admin or owner) */
    delete: operations["deleteUserGroupsById"];
    /** Rename a group or change its description and rationale (Admin or owner) */
    patch: operations["patchUserGroupsById"];
  };
  "/api/v1/user-groups/{id}/members": {
    /** A group's members by name, searchable */
    get: operations["getUserGroupsByIdMembers"];
    /** Add up to 10000 members (Admin or owner; no one passes on a role or clearance they could not grant) */
    post: operations["postUserGroupsByIdMembers"];
  };
  "/api/v1/user-groups/{id}/candidates": {
    /**
     * Staff who could be added to the group or named in its permission sets (names only)
     * @description For those who may manage the group's members, owners or permission sets, whatever their role (a set holder need not be able to list users): live users of the organisation by name, at most 20, `q` narrowing by name or email. 403 for anyone else who sees the group, 404 for those who do not.
     */
    get: operations["getUserGroupsByIdCandidates"];
  };
  "/api/v1/user-groups/{id}/members/{userId}": {
    /** Remove a member: their access through the group ends on their next request */
    delete: operations["deleteUserGroupsByIdMembersByUserId"];
  };
  "/api/v1/user-groups/{id}/owners": {
    /** Add owners (at most 10) */
    post: operations["postUserGroupsByIdOwners"];
  };
  "/api/v1/user-groups/{id}/owners/{userId}": {
    /** Remove an owner */
    delete: operations["deleteUserGroupsByIdOwnersByUserId"];
  };
  "/api/v1/user-groups/{id}/student-links": {
    /**
     * Link the group to a student group or a student (Admin where the students are)
     * @description A link to an "All students" group needs `confirm: true` and a non-empty `rationale`, kept with the link and in the audit log; without them 409 `all_students_confirmation_required` and nothing is linked.
     */
    post: operations["postUserGroupsByIdStudentLinks"];
  };
  "/api/v1/user-groups/{id}/student-links/{linkId}": {
    /** End a link */
    delete: operations["deleteUserGroupsByIdStudentLinksByLinkId"];
  };
  "/api/v1/user-groups/{id}/clearances": {
    /** Set the group's clearances (only a holder of a clearance, or an Owner, confers or removes it) */
    put: operations["putUserGroupsByIdClearances"];
  };
  "/api/v1/user-groups/{id}/permission-sets": {
    /**
     * The group's permission sets: Owners, Members, Everyone, then custom sets by name, with their assignees
     * @description Members and Everyone list no assignees (they are implicit). A user group assignee the caller may not see is answered withheld (no id, name or count). `abilities.manage`: whether the caller may change the sets.
     */
    get: operations["getUserGroupsByIdPermissionSets"];
    /**
     * Add a custom permission set (Admin or owner; at most 20 sets per group, Owners, Members and Everyone included)
     * @description Assignees are users, or user groups whose members hold the set while they are members (at most 1000). On a group that holds a role or a clearance, a set with `manage_members` or `delete` needs the writer to be able to pass them on (403), and each user assignee too (409 `permission_set_escalation`).
     */
    post: operations["postUserGroupsByIdPermissionSets"];
  };
  "/api/v1/user-groups/{id}/permission-sets/{setId}": {
    /** Delete a custom permission set: its assignees lose it on their next request (Owners, Members and Everyone stay: 409) */
    delete: operations["deleteUserGroupsByIdPermissionSetsBySetId"];
    /**
     * Change a permission set: a custom set's name, permissions or whole assignee list
     * @description Owners is fixed (409 `permission_set_fixed`); of Members and Everyone only `permissions` may change (422 for `name` or `assignees`). Assigned groups the caller may not see are kept.
     */
    patch: operations["patchUserGroupsByIdPermissionSetsBySetId"];
  };
  "/api/v1/user-groups/{id}/batch": {
    /**
     * Apply a list of edits atomically: all of them, or none
     * @description If any operation fails, the answer is the error of the first failing one (with `operationIndex`), and no operation is applied. With `accessReviewId` and `accessReviewItemId` the edits are made through that item of an open access review, by one who may decide it; every audit row of the change carries both ids.
     */
    post: operations["postUserGroupsByIdBatch"];
  };
  "/api/v1/users/{id}/student-links": {
    /** A user's direct links (children the caller cannot see are redacted) */
    get: operations["getUsersByIdStudentLinks"];
    /** Link a user directly to one student (external partners; Admin at the school) */
    post: operations["postUsersByIdStudentLinks"];
  };
  "/api/v1/users/{id}/student-links/{linkId}": {
    /** End a direct link */
    delete: operations["deleteUsersByIdStudentLinksByLinkId"];
  };
  "/api/v1/blocks": {
    /** Current blocks on children the caller can see */
    get: operations["getBlocks"];
    /** Hide a child from a member of staff, whatever else grants access (Deputy DSL or higher) */
    post: operations["postBlocks"];
  };
  "/api/v1/blocks/{id}": {
    /** Lift a block (it stays in the history) */
    delete: operations["deleteBlocksById"];
  };
  "/api/v1/access/explain": {
    /**
     * Why a user can or cannot see a student, or read an incident, with every path and denial
     * @description Give `studentId` (with `asOf` if wanted) or `incidentId`. Anyone may explain their own access; explaining someone else's takes `reports.access_audit` (Admin). The caller must be able to see the student, or read the incident; children the caller cannot see are redacted. An incident's explanation comes from the incident policy itself (ways in: reporter, assignee, assigned group, a child seen with the clearance the category needs; denials: exclusion, being an allegation's subject, blocks, missing clearance); a two-factor step-up belongs to a session and is not part of it.
     */
    get: operations["getAccessExplain"];
  };
  "/api/v1/students/{id}/access": {
    /** Who can see this child, each with their paths, by name (Admin) */
    get: operations["getStudentsByIdAccess"];
  };
  "/api/v1/users/{id}/effective-permissions": {
    /**
     * Roles per scope, clearances, access paths with counts and blocks, and permission sets on user groups, each with its source
     * @description Anyone may read their own; reading someone else's takes `reports.access_audit` (Admin).
     */
    get: operations["getUsersByIdEffectivePermissions"];
  };
  "/api/v1/access/widening-preview": {
    /**
     * How many more people would see child-protection or allegation records after a change
     * @description Runs the change itself (an assignment, an edit of a concern such as lowering its sensitivity, removing a child or moving it, a link, new members, a whole user-group batch, a role grant, lifting a block, a direct link) inside a transaction that is always rolled back, and counts with the record policy who would newly read child-protection or allegation records. Nothing is changed. Counts only records the caller can read; a change the caller may not make answers the error the change itself would.
     */
    post: operations["postAccessWideningPreview"];
  };
  "/api/v1/categories": {
    /** Incident categories: the organisation's and its schools' */
    get: operations["getCategories"];
    /** Add a category (Admin), with its sensitivity */
    post: operations["postCategories"];
  };
  "/api/v1/categories/{id}": {
    /** Rename a category, or retire it (its records keep it; new concerns cannot use it) */
    patch: operations["patchCategoriesById"];
  };
  "/api/v1/incidents": {
    /**
     * The incidents the caller may see, newest first (spec section 4)
     * @description `q` searches the account and the location. Children the caller cannot see are redacted.
     */
    get: operations["getIncidents"];
    /** Log a concern about one or more students */
    post: operations["postIncidents"];
  };
  "/api/v1/incidents/count": {
    /** How many incidents the caller may see, with the list’s filters */
    get: operations["getIncidentsCount"];
  };
  "/api/v1/incidents/export": {
    /**
     * CSV of the incidents the caller may see, with the list’s filters (the export is logged)
     * @description The header `X-Haven-Step-Up-Needed` says how many more records match that this session may read only after a two-factor step-up: they are not in the file.
     */
    get: operations["getIncidentsExport"];
  };
  "/api/v1/incidents/{id}": {
    /** One incident (the read is written to the access log) */
    get: operations["getIncidentsById"];
    /** Soft-delete an incident (Deputy DSL) */
    delete: operations["deleteIncidentsById"];
    /**
     * Edit an incident; the previous version is kept as a revision
     * @description Answers the incident as the caller now reads it, or `{ id, revision, withheld: true }` when the edit took it out of their reach (for instance a concern handed over as an allegation they are not cleared to read): the edit was saved.
     */
    patch: operations["patchIncidentsById"];
  };
  "/api/v1/incidents/{id}/revisions": {
    /**
     * Earlier versions of an incident, newest first
     * @description Each version is shown only as the caller could read a record with that version’s category, school and children; otherwise it is `withheld`, with no content. Children the caller cannot see are redacted.
     */
    get: operations["getIncidentsByIdRevisions"];
  };
  "/api/v1/incidents/{id}/exclusions": {
    /** Who is excluded from an incident */
    get: operations["getIncidentsByIdExclusions"];
    /** Replace the exclusion list (Deputy DSL): those named never see the incident */
    put: operations["putIncidentsByIdExclusions"];
  };
  "/api/v1/incidents/{id}/assignees": {
    /**
     * Assign the incident to a user or a user group (Deputy DSL)
     * @description Refused with 409 `assignee_blocked` for a person blocked from a child on the record (nothing changes). Answers the incident with `warnings`: `assignee_cannot_read` when the person, or some members of the group (`cannotRead` of `members`), cannot read it even so (an exclusion, being an allegation's subject, no role). `POST /access/widening-preview` with `kind: "incident_assignee"` gives the same warnings before saving.
     */
    post: operations["postIncidentsByIdAssignees"];
  };
  "/api/v1/students/{id}/chronology": {
    /** A child's chronology: the incidents and actions the caller may see, newest first */
    get: operations["getStudentsByIdChronology"];
  };
  "/api/v1/incidents/{id}/actions": {
    /** An incident's actions */
    get: operations["getIncidentsByIdActions"];
    /**
     * Add an action to an incident (Deputy DSL), assigned to a user or a group
     * @description An assignee who is a person blocked from a child on the record is refused with 409 `assignee_blocked` (nothing changes). Otherwise the action is saved, and `warnings` holds `assignee_cannot_read` when the person, or some members of the group (`cannotRead` of `members`), cannot read its incident: they would not see the action. `POST /incidents/:id/actions/assignee-check` gives the same answer before saving.
     */
    post: operations["postIncidentsByIdActions"];
  };
  "/api/v1/incidents/{id}/actions/assignee-check": {
    /**
     * Before saving an action: would its assignee be refused, or not read the record?
     * @description Answers what `POST /incidents/:id/actions` or `PATCH /actions/:id` with this assignee would: 409 `assignee_blocked` for a person blocked from a child on the record, else `{ warnings }` (see there). Nothing is changed.
     */
    post: operations["postIncidentsByIdActionsAssigneeCheck"];
  };
  "/api/v1/actions/{id}": {
    /** Delete an action (Deputy DSL; kept, marked deleted) */
    delete: operations["deleteActionsById"];
    /**
     * Edit an action (Deputy DSL)
     * @description An assignee who is a person blocked from a child on the record is refused with 409 `assignee_blocked` (nothing changes). Otherwise the action is saved, and `warnings` holds `assignee_cannot_read` when the person, or some members of the group (`cannotRead` of `members`), cannot read its incident: they would not see the action. `POST /incidents/:id/actions/assignee-check` gives the same answer before saving.
     */
    patch: operations["patchActionsById"];
  };
  "/api/v1/actions/{id}/complete": {
    /** Complete an action assigned to you or to a group you are in */
    post: operations["postActionsByIdComplete"];
  };
  "/api/v1/me/actions": {
    /** My open actions, overdue first */
    get: operations["getMeActions"];
  };
  "/api/v1/alerts": {
    /** My alerts, newest first (dismissed ones are left out) */
    get: operations["getAlerts"];
  };
  "/api/v1/alerts/{id}/read": {
    /** Mark one of my alerts read */
    post: operations["postAlertsByIdRead"];
  };
  "/api/v1/alerts/{id}/dismiss": {
    /** Dismiss one of my alerts */
    post: operations["postAlertsByIdDismiss"];
  };
  "/api/v1/incidents/{id}/documents": {
    /** The documents on an incident */
    get: operations["getIncidentsByIdDocuments"];
    /**
     * Upload a document to an incident (Deputy DSL)
     * @description The body is the file itself, with its Content-Type; `?filename=` names it. The type is judged from the bytes (PDF, images, Office documents, plain text) and the size against HAVEN_MAX_UPLOAD_BYTES.
     */
    post: operations["postIncidentsByIdDocuments"];
  };
  "/api/v1/students/{id}/documents": {
    /** The documents on a student's file */
    get: operations["getStudentsByIdDocuments"];
    /**
     * Upload a document to a student's file (Deputy DSL)
     * @description The body is the file itself, with its Content-Type; `?filename=` names it. The type is judged from the bytes (PDF, images, Office documents, plain text) and the size against HAVEN_MAX_UPLOAD_BYTES.
     */
    post: operations["postStudentsByIdDocuments"];
  };
  "/api/v1/documents/{id}": {
    /** Download a document (checked against its SHA-256; the read is logged) */
    get: operations["getDocumentsById"];
    /** Delete a document (Deputy DSL; kept, marked deleted) */
    delete: operations["deleteDocumentsById"];
  };
  "/api/v1/categories/{id}/notifications": {
    /** Who is told of a category's new concerns, and how (Admin) */
    get: operations["getCategoriesByIdNotifications"];
    /**
     * Replace a category's notification rules (Admin)
     * @description Each rule names a user or a user group and a channel: an alert in the app, an immediate email, or the school's daily digest email. Whoever a rule names is told only of records they may read when the notification is sent.
     */
    put: operations["putCategoriesByIdNotifications"];
  };
  "/api/v1/outbox": {
    /** Emails Haven sent, is sending or could not send (Admin, for their schools) */
    get: operations["getOutbox"];
  };
  "/api/v1/outbox/{id}/retry": {
    /** Send a failed email again (Admin) */
    post: operations["postOutboxByIdRetry"];
  };
  "/api/v1/reportable-students": {
    /**
     * Children the caller may report a concern about, by family name
     * @description Any child on roll at a school where the caller holds a role, except those they are blocked from: names, year group and school only. Reporting about a child does not make the child visible. `q` matches every word against the start of the names; `schoolId` (403 where the caller holds no role) narrows to one school. Each search is written to the access log.
     */
    get: operations["getReportableStudents"];
  };
  "/api/v1/reportable-staff": {
    /**
     * Staff an allegation at the school may name (names only)
     * @description Live users holding a role at the school (or at a scope covering it), the caller left out, by name; at most 50, `q` narrows by any part of the name. 403 where the caller holds no role at the school.
     */
    get: operations["getReportableStaff"];
  };
  "/api/v1/me/reports": {
    /**
     * The concerns I reported, newest first (no two-factor check needed)
     * @description No account of what happened: open a report (`GET /incidents/:id`) to read it, as its reporter.
     */
    get: operations["getMeReports"];
  };
  "/api/v1/access-reviews": {
    /** Access reviews the caller runs, or has items in (groups they own or administer), newest first, with progress */
    get: operations["getAccessReviews"];
    /**
     * Start a termly access review of the user groups homed in a scope (Admin there)
     * @description One item per live user group homed in the scope (the organisation: every group; a school group: groups homed there or at its schools; a school: groups homed there), each reviewed by its owners or an Admin at its home.
     */
    post: operations["postAccessReviews"];
  };
  "/api/v1/access-reviews/{id}": {
    /** A review with its items (those the caller sees), decisions and progress */
    get: operations["getAccessReviewsById"];
  };
  "/api/v1/access-reviews/{id}/items/{itemId}": {
    /** One group under review: its members, owners, grants, links and clearances, and what changed since it was last reviewed, with who and when */
    get: operations["getAccessReviewsByIdItemsByItemId"];
  };
  "/api/v1/access-reviews/{id}/items/{itemId}/decision": {
    /** Confirm a group's access or record that it was changed, with a note (its owners or an Admin at its home; never a member it gives a role, a clearance or children) */
    post: operations["postAccessReviewsByIdItemsByItemIdDecision"];
  };
  "/api/v1/access-reviews/{id}/close": {
    /**
     * Close the review with a summary (Admin at its scope)
     * @description Refused with 409 `review_undecided` while items are undecided, unless `force: true` (they stay "not decided").
     */
    post: operations["postAccessReviewsByIdClose"];
  };
  "/api/v1/reports/access-audit": {
    /**
     * Saved Access Audit Report runs the caller may see, newest first
     * @description Runs of the scopes the caller may run the report for now. Runs are never changed or deleted.
     */
    get: operations["getReportsAccessAudit"];
    /**
     * Run the Access Audit Report and save the run (Admin and above, for their scope)
     * @description One row per person in the scope (default: the organisation), now or as of a past time, saved immutably with its SHA-256; the run is written to the audit log. 403 for a scope the caller may not run it for, 404 for an unknown scope.
     */
    post: operations["postReportsAccessAudit"];
  };
  "/api/v1/reports/access-audit/{id}": {
    /**
     * Download a saved run: its JSON exactly as saved, or CSV or PDF made from it
     * @description `format=json` (default) answers the saved bytes, whose SHA-256 is the run’s (`Repr-Digest`, RFC 9530); `csv` and `pdf` are rendered from them, the same bytes on every download. Every download is written to the access log. 404 for a run of a scope the caller may not run the report for.
     */
    get: operations["getReportsAccessAuditById"];
  };
  "/api/v1/students/{id}/safeguarding-file": {
    /**
     * The child's safeguarding file as the caller may see it, as JSON or a printable PDF
     * @description Who the child is, and every concern (with the earlier versions, actions and documents) the caller may read, oldest first; documents are listed, not included. Records the caller may not read are left out without a trace. Every download is written to the access log. 404 for a child the caller cannot see; 403 `mfa_required` when a two-factor step-up would add records.
     */
    get: operations["getStudentsByIdSafeguardingFile"];
  };
  "/api/v1/retention/queue": {
    /**
     * The school's records past their retention day that the caller may review
     * @description Earliest day first, on legal hold or not; records the caller may not read are left out. DSL (or Owner) at the school; 404 for a school not of the organisation.
     */
    get: operations["getRetentionQueue"];
  };
  "/api/v1/retention/records/{id}": {
    /**
     * A record's retention: its day, the rule that set it and every decision
     * @description A destroyed record answers with its tombstone (no content). 404 for a record the caller cannot read; 403 without `records.retention` at its school.
     */
    get: operations["getRetentionRecordsById"];
  };
  "/api/v1/retention/records/{id}/decisions": {
    /**
     * Extend, hold, release, record the subject’s date of birth, or destroy
     * @description `destroy` is the approval and the destruction at once: the content, revisions and documents go, the record stays as a tombstone and `incident.destroy` joins the audit chain. 409 `retention_not_reached`, `legal_hold`, `subject_birth_date_unknown`, `already_on_hold`, `not_on_hold`, `not_an_allegation` or `record_destroyed`; a refusal changes nothing.
     */
    post: operations["postRetentionRecordsByIdDecisions"];
  };
  "/api/v1/transfers": {
    /**
     * Transfers sent from (out) or offered to (in) the caller’s schools
     * @description out: schools where the caller manages transfers; in: schools where the caller is DSL (or above). An offer shows the child’s name and date of birth, the sending school and the reason; nothing of the records until it is accepted.
     */
    get: operations["getTransfers"];
    /**
     * Send the child's safeguarding file to another school on this installation
     * @description Admin or above at the child's school, who must read the child's whole file (403 `file_not_whole` otherwise). The file as they read it is kept with the transfer; it is due five school days later. 404 for a child the caller cannot see; 409 `transfer_pending` while another transfer of the child waits for receipt.
     */
    post: operations["postTransfers"];
  };
  "/api/v1/transfers/destinations": {
    /**
     * The organisation's schools a file may be sent to
     * @description Another organisation's schools are not listed: its school gives the sender its school id.
     */
    get: operations["getTransfersDestinations"];
  };
  "/api/v1/transfers/{id}/accept": {
    /**
     * Accept a file offered to one’s school: the receipt is recorded
     * @description The receiving school's DSL (or above). The child is on roll at the receiving school with the file's records, which its Safeguarding Team reads. 404 for a transfer not offered to the caller's organisation; 409 `transfer_received` once accepted.
     */
    post: operations["postTransfersByIdAccept"];
  };
  "/api/v1/transfers/{id}/file": {
    /**
     * The file as it was sent: the sending school’s closed, read-only copy
     * @description DSL (or above) at the sending school; 404 otherwise.
     */
    get: operations["getTransfersByIdFile"];
  };
  "/api/v1/transfers/{id}/receipt": {
    /**
     * Record by hand that a school not on Haven confirmed receipt
     * @description Admin or above at the sending school. 409 `transfer_not_external` for a transfer on Haven (the receiver accepts it there), `transfer_closed` once received or cancelled.
     */
    post: operations["postTransfersByIdReceipt"];
  };
  "/api/v1/transfers/{id}/cancel": {
    /** Withdraw a transfer not yet received */
    post: operations["postTransfersByIdCancel"];
  };
  "/api/v1/transfers/{id}/archive": {
    /**
     * An external transfer's encrypted archive (the file, its PDF and the documents)
     * @description Admin or above at the sending school; open it with the passphrase shown when it was sent (`haven transfer decrypt`). Every download is in the access log.
     */
    get: operations["getTransfersByIdArchive"];
  };
  "/api/v1/transfers/{id}/pdf": {
    /**
     * The printable PDF chronology of the file as it was sent
     * @description DSL (or above) at the sending school. Every download is in the access log.
     */
    get: operations["getTransfersByIdPdf"];
  };
  "/api/v1/schools/{id}/holidays": {
    /**
     * The school's holidays, which a transfer's school-day clock skips
     * @description Admin (or above) at the school; 404 for a school not of the organisation.
     */
    get: operations["getSchoolsByIdHolidays"];
    /** Add a holiday (both days included) */
    post: operations["postSchoolsByIdHolidays"];
  };
  "/api/v1/schools/{id}/holidays/{holidayId}": {
    /** Remove a holiday */
    delete: operations["deleteSchoolsByIdHolidaysByHolidayId"];
  };
  "/api/v1/organisation/scim-tokens": {
    /**
     * The organisation's SCIM tokens, revoked ones too, newest first (Owner)
     * @description Never the token itself.
     */
    get: operations["getOrganisationScimTokens"];
    /**
     * Create a SCIM provisioning token (Owner)
     * @description The token is in this answer only (Haven keeps its hash). Give it to Microsoft Entra ID or Google as the secret token of `/scim/v2`: it provisions accounts and groups across the organisation, with the authority docs/decisions.md describes.
     */
    post: operations["postOrganisationScimTokens"];
  };
  "/api/v1/organisation/scim-tokens/{id}": {
    /** Revoke a SCIM token (Owner); its next request is refused */
    delete: operations["deleteOrganisationScimTokensById"];
  };
  "/api/v1/imports/oneroster": {
    /**
     * Import a OneRoster 1.2 CSV bundle (Admin)
     * @description Send the bundle as `application/zip`, or as JSON `{ files: { "manifest.csv": "...", "orgs.csv": "...", ... }, schools?: { "<sourcedId or identifier>": "<Haven school id>" } }`. Schools are matched by Haven school id (as sourcedId or identifier), by `schools`, else by exact name; pupils are added or updated by UPN (metadata.upn, userIds {UPN:...} or identifier) and taken off roll when `tobedeleted`; teachers, aides and administrators are added holding only Member or renamed by email, and disabled when `tobedeleted`. A record whose `dateLastModified` is older than Haven's last change to it is left as Haven has it. `dryRun`, `onError` and `runId` work as for the CSV imports; a bundle holding staff also needs `users.manage` (403). Each import is audited (`import.finish`: the run, its kind, status and counts). docs/imports.md.
     */
    post: operations["postImportsOneroster"];
  };
  "/scim/v2/ServiceProviderConfig": {
    /** What the SCIM service supports (RFC 7644 section 5) */
    get: operations["getScimV2ServiceProviderConfig"];
  };
  "/scim/v2/ResourceTypes": {
    /** The SCIM resource types */
    get: operations["getScimV2ResourceTypes"];
  };
  "/scim/v2/ResourceTypes/{id}": {
    /** One SCIM resource type */
    get: operations["getScimV2ResourceTypesById"];
  };
  "/scim/v2/Schemas": {
    /** The SCIM schemas */
    get: operations["getScimV2Schemas"];
  };
  "/scim/v2/Schemas/{id}": {
    /** One SCIM schema */
    get: operations["getScimV2SchemasById"];
  };
  "/scim/v2/Users": {
    /**
     * Users of the organisation (SCIM ListResponse)
     * @description `filter` takes `userName`, `emails.value`, `externalId`, `id`, `displayName` with `eq`, `active eq true|false`, `externalId pr`, joined with `and` / `or`; `startIndex` (1-based) and `count` (at most 200) page in SQL.
     */
    get: operations["getScimV2Users"];
    /** Provision a user: a Member of the organisation, without a role */
    post: operations["postScimV2Users"];
  };
  "/scim/v2/Users/{id}": {
    /** One user */
    get: operations["getScimV2UsersById"];
    /** Replace a user */
    put: operations["putScimV2UsersById"];
    /** Deprovision a user: their account is disabled, never deleted */
    delete: operations["deleteScimV2UsersById"];
    /** Change a user (PatchOp); `active: false` disables them and ends their sessions */
    patch: operations["patchScimV2UsersById"];
  };
  "/scim/v2/Groups": {
    /**
     * The organisation's user groups (not those Haven makes itself)
     * @description `filter` takes `displayName`, `externalId`, `id`, `members.value` with `eq`; `excludedAttributes=members` leaves members out.
     */
    get: operations["getScimV2Groups"];
    /** Create a user group, homed at the organisation */
    post: operations["postScimV2Groups"];
  };
  "/scim/v2/Groups/{id}": {
    /** One user group */
    get: operations["getScimV2GroupsById"];
    /** Replace a group's name, externalId and members */
    put: operations["putScimV2GroupsById"];
    /** Delete a user group (its history is kept) */
    delete: operations["deleteScimV2GroupsById"];
    /**
     * Change a group's name or members (PatchOp)
     * @description Refused (403) for a group that confers Owner, DSL, Deputy DSL or a clearance: a person who holds it decides its members, in Haven.
     */
    patch: operations["patchScimV2GroupsById"];
  };
  "/api/v1/users/{id}/invitation": {
    /**
     * Send a user a new invitation (Admin); the link of the earlier one stops working
     * @description For a user who has never set a password nor signed in: queues an email with a new single-use link, valid 7 days. 409 `already_active` once they have signed in or set a password (they reset it from the sign-in page instead), 409 `account_disabled` for a disabled user, 409 `email_off` when Haven sends no email (`HAVEN_SMTP_URL` unset). Refused like editing the user when the caller could not have granted every role they hold.
     */
    post: operations["postUsersByIdInvitation"];
  };
  "/api/v1/auth/accept-invitation": {
    /**
     * Accept an invitation: choose a password and sign in
     * @description With the `token` of the link in the invitation email (`/accept-invitation?token=…`) and a new `password` (at least 12 characters, not easy to guess; else 400 `validation_failed` naming `password`, and the link still works). Answers as `POST /auth/login`: the session cookie, and `{ token, csrfToken, expiresAt, user, mfaEnrolmentRequired }`. A link that is unknown, already used, replaced by a newer invitation or past its 7 days answers 400 `invalid_token` and changes nothing; so does one for an account that has signed in meanwhile. A disabled account: 403 `account_disabled`. Someone who holds no role yet has their password set and is answered 403 `no_role`, as at sign-in; they sign in once given one.
     */
    post: operations["postAuthAcceptInvitation"];
  };
  "/api/v1/auth/password-reset": {
    /**
     * Ask for a password reset link by email
     * @description Always 202 with the same answer, whether or not an account uses the email, so the answer tells nobody which addresses have accounts. Each account that may sign in with this email (one per organisation) is sent its own link, naming its organisation, valid one hour and once; a newer request replaces the link of an earlier one. At most 3 emails per account and hour: further requests are answered alike and dropped. Disabled accounts get nothing. Without email set up nothing is sent, and the answer says so (`emailOn: false`), the same for every address.
     */
    post: operations["postAuthPasswordReset"];
  };
  "/api/v1/auth/password-reset/confirm": {
    /**
     * Choose a new password with a reset link; every session of the account ends
     * @description With the `token` of the link in the reset email (`/reset-password?token=…`) and a new `password` (the usual strength rules; a weak one answers 400 `validation_failed` and the link still works). 204: the password is set, every session of the account ends (sign in again), and any other invitation or reset link of theirs stops working. A link that is unknown, already used, replaced or past its hour answers 400 `invalid_token` and changes nothing; a disabled account 403 `account_disabled`. Two-factor sign-in, if on, stays on.
     */
    post: operations["postAuthPasswordResetConfirm"];
  };
  "/api/v1/organisation/sso": {
    /**
     * Single sign-on: the providers and switches (Owner)
     * @description The client secrets are never answered (`clientSecretSet: true`). Each provider’s `redirectUri` is what to register at it: every provider has its own (`/api/v1/auth/oidc/<providerId>/callback`), so an answer is taken only for the provider it was asked of.
     */
    get: operations["getOrganisationSso"];
    /**
     * Replace the single sign-on providers and switches (Owner)
     * @description Each provider: `kind` `microsoft` (send `tenantId`, the directory id, and Haven uses `https://login.microsoftonline.com/<tenantId>/v2.0`; or the whole `issuer`), `google` (`https://accounts.google.com`) or `oidc` (any `issuer`, https); `clientId`; `clientSecret`, needed for a new provider and kept when left out for an existing one (sent with its `id`; an id that is not one of this organisation's providers answers 404); `allowedDomains`, the email domains it may sign in (lower case); an optional `label` for the button. Providers left out are removed, with the sign-ins linked to them; changing a provider's issuer or client id forgets its links too. Switches: `passwordSignIn` (false: `POST /auth/login` answers 403 `password_sign_in_off` for this organisation's accounts, once the password is right; turning it off is refused with 409 `sso_not_proven` unless the caller has signed in through one of the providers, kept as they are), `createAccounts` (a person with a verified address in an allowed domain and no account gets one, as a Member who still needs a role), `acceptProviderMfa` (a sign-in whose ID token says it was multi-factor, `amr`, counts as a passed two-factor check at that moment). Answers as the GET.
     */
    put: operations["putOrganisationSso"];
  };
  "/api/v1/auth/sso-providers": {
    /**
     * The single sign-on buttons for the sign-in page
     * @description Without `email`: the providers of the installation's organisation when it holds exactly one, else none. With `email`: the providers whose allowed domains include its domain, whichever organisation they belong to. `passwordSignIn` is false when every organisation answered about has turned password sign-in off.
     */
    get: operations["getAuthSsoProviders"];
  };
  "/api/v1/auth/oidc/{providerId}/start": {
    /**
     * Start signing in through a provider: redirects to it
     * @description Redirects to the provider (authorization code flow with PKCE S256, state and nonce) and sets a short-lived cookie binding the sign-in to this browser. An unknown provider, or one that cannot be reached, redirects to `/sign-in?sso_error=sso_unknown_provider` or `sso_unavailable`.
     */
    get: operations["getAuthOidcByProviderIdStart"];
  };
  "/api/v1/auth/oidc/{providerId}/callback": {
    /**
     * The provider’s answer: signs in and redirects to the web app
     * @description The provider’s redirect URI (each provider has its own). Checks the sign-in was started in this browser, with this provider, and not yet used (each is used once, within 10 minutes), exchanges the code (PKCE) and checks the ID token (signature, issuer, audience, nonce). The person is the one linked to the provider's `sub`, else the user of the organisation with the email address the provider vouches for, within the provider's allowed domains. Success sets the session cookie and redirects to `/`; otherwise a redirect to `/sign-in?sso_error=<code>`: `sso_state` (not started in this browser, tampered or used), `sso_expired`, `sso_cancelled`, `sso_failed`, `sso_unverified_email`, `sso_domain`, `sso_no_account`, `sso_disabled`, `sso_no_role` (a Member who still needs a role), `sso_rate_limited`.
     */
    get: operations["getAuthOidcByProviderIdCallback"];
  };
}

export type webhooks = Record<string, never>;

export interface components {
  schemas: {
    /** @description An error (RFC 9457). `code` is stable; `detail` is written for people. */
    Problem: {
      /** @description urn:haven:problem:<code> */
      type: string;
      title: string;
      status: number;
      code: string;
      detail: string;
      instance?: string;
      /** @description With 400 `validation_failed`: each field and what is wrong with it. */
      errors?: {
          field: string;
          message: string;
        }[];
      [key: string]: unknown;
    };
  };
  responses: {
    /** @description The request is malformed or fails validation */
    BadRequest: {
      content: {
        "application/problem+json": components["schemas"]["Problem"];
      };
    };
    /** @description No valid session or token */
    Unauthorized: {
      content: {
        "application/problem+json": components["schemas"]["Problem"];
      };
    };
    /** @description The caller may not take this action */
    Forbidden: {
      content: {
        "application/problem+json": components["schemas"]["Problem"];
      };
    };
    /** @description No such record, or one the caller may not see (the two are not told apart) */
    NotFound: {
      content: {
        "application/problem+json": components["schemas"]["Problem"];
      };
    };
    /** @description The change conflicts with the current state */
    Conflict: {
      content: {
        "application/problem+json": components["schemas"]["Problem"];
      };
    };
    /** @description Too many attempts; see Retry-After */
    TooManyRequests: {
      content: {
        "application/problem+json": components["schemas"]["Problem"];
      };
    };
    /** @description Any other error (413, 415, 422, 500, 503 with Retry-After) */
    Problem: {
      content: {
        "application/problem+json": components["schemas"]["Problem"];
      };
    };
  };
  parameters: never;
  requestBodies: never;
  headers: never;
  pathItems: never;
}

export type $defs = Record<string, never>;

export type external = Record<string, never>;

export interface operations {

  /**
   * Whether the Haven process answers
   * @description Liveness: answers 200 while the process can answer HTTP at all, without touching the database (use `/api/v1/ready` for that).
   */
  getHealth: {
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            /** @enum {string} */
            status: "ok";
          };
        };
      };
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Whether this Haven process can serve requests
   * @description Readiness: the database answers within 1000 ms, its migrations are this version's, and the notification worker runs where this process is meant to run it. 503 `not_ready` names the checks that failed.
   */
  getReady: {
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            /** @enum {string} */
            status: "ready";
            checks: {
              /**
               * @description Whether the database answered within 1000 ms
               * @enum {string}
               */
              database: "ok" | "unavailable";
              /**
               * @description `pending`: migrations of this version are not applied (run `haven migrate`); `ahead`: the database has migrations this version does not know; `unknown`: the database did not answer
               * @enum {string}
               */
              migrations: "current" | "pending" | "ahead" | "unknown";
              /**
               * @description The notification worker in this process; `off`: this process does not run it (`HAVEN_WORKER=off`)
               * @enum {string}
               */
              worker: "running" | "stopped" | "off";
            };
          };
        };
      };
      /** @description Not ready; `checks` says which check failed */
      503: {
        content: {
          "application/problem+json": {
            type: string;
            title: string;
            status: number;
            code: string;
            detail: string;
            checks: {
              /**
               * @description Whether the database answered within 1000 ms
               * @enum {string}
               */
              database: "ok" | "unavailable";
              /**
               * @description `pending`: migrations of this version are not applied (run `haven migrate`); `ahead`: the database has migrations this version does not know; `unknown`: the database did not answer
               * @enum {string}
               */
              migrations: "current" | "pending" | "ahead" | "unknown";
              /**
               * @description The notification worker in this process; `off`: this process does not run it (`HAVEN_WORKER=off`)
               * @enum {string}
               */
              worker: "running" | "stopped" | "off";
            };
            [key: string]: unknown;
          };
        };
      };
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Whether first-run setup is still open
   * @description The web app shows its setup page while `needed` is true.
   */
  getSetup: {
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            needed: boolean;
          };
        };
      };
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Create the first organisation, its first school and its first Owner
   * @description Refused with 409 once any organisation exists on this installation.
   */
  postSetup: {
    requestBody: {
      content: {
        "application/json": {
          organisationName: string;
          schoolName: string;
          owner: {
            /** Format: email */
            email: string;
            name: string;
            password: string;
          };
        };
      };
    };
    responses: {
      /** @description Default Response */
      201: {
        content: {
          "application/json": {
            organisationId: string;
            schoolId: string;
            ownerId: string;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      409: components["responses"]["Conflict"];
      429: components["responses"]["TooManyRequests"];
      default: components["responses"]["Problem"];
    };
  };
  /** The caller's organisation */
  getOrganisation: {
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            name: string;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
            settings: {
              retirementAge: number;
            };
          };
        };
      };
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Rename the organisation or change its settings (Owner)
   * @description `retirementAge`: the normal retirement age of its staff, a whole number 55 to 75 (default 67); an allegation is kept until its subject reaches it, or ten years, whichever is later. Fields not named are kept.
   */
  patchOrganisation: {
    requestBody: {
      content: {
        "application/json": {
          name?: string;
          retirementAge?: number;
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            name: string;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
            settings: {
              retirementAge: number;
            };
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** The organisation's schools */
  getSchools: {
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: {
                id: string;
                name: string;
                /** Format: date-time */
                createdAt: string;
                /** Format: date-time */
                updatedAt: string;
                settings: {
                  requireMfaForSensitive: boolean;
                  requireMfaEnrolment: boolean;
                  digestTime: string;
                  retentionYears: number;
                };
              }[];
            nextCursor: null;
          };
        };
      };
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Add a school (Owner)
   * @description The school starts with its "All students" group, a Safeguarding Team and an "Allegations" group whose one member, the allegations manager, is `allegationsManagerId` (a live user of the organisation; 404 naming the field otherwise) or else the organisation's first Owner.
   */
  postSchools: {
    requestBody: {
      content: {
        "application/json": {
          name: string;
          allegationsManagerId?: string;
        };
      };
    };
    responses: {
      /** @description Default Response */
      201: {
        content: {
          "application/json": {
            id: string;
            name: string;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
            settings: {
              requireMfaForSensitive: boolean;
              requireMfaEnrolment: boolean;
              digestTime: string;
              retentionYears: number;
            };
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** One school */
  getSchoolsById: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            name: string;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
            settings: {
              requireMfaForSensitive: boolean;
              requireMfaEnrolment: boolean;
              digestTime: string;
              retentionYears: number;
            };
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** Rename a school (Owner) */
  patchSchoolsById: {
    parameters: {
      path: {
        id: string;
      };
    };
    requestBody: {
      content: {
        "application/json": {
          name?: string;
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            name: string;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
            settings: {
              requireMfaForSensitive: boolean;
              requireMfaEnrolment: boolean;
              digestTime: string;
              retentionYears: number;
            };
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** A school's settings, each with its default where never set */
  getSchoolsByIdSettings: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            requireMfaForSensitive: boolean;
            requireMfaEnrolment: boolean;
            digestTime: string;
            retentionYears: number;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Change school settings (Admin at the school)
   * @description Any of: `requireMfaForSensitive` (reading child-protection and allegation records needs a recent two-factor step-up; default on), `requireMfaEnrolment` (whoever holds a clearance, or Deputy DSL or higher, where this school is concerned must enrol two-factor sign-in before using Haven; default on; applies to open sessions from their next request), `digestTime` (when the daily digest email goes out, "HH:MM" 24-hour, Europe/London; default "16:00"). Settings not named are kept. Answers every setting.
   */
  patchSchoolsByIdSettings: {
    parameters: {
      path: {
        id: string;
      };
    };
    requestBody: {
      content: {
        "application/json": {
          requireMfaForSensitive?: boolean;
          requireMfaEnrolment?: boolean;
          digestTime?: string;
          retentionYears?: number;
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            requireMfaForSensitive: boolean;
            requireMfaEnrolment: boolean;
            digestTime: string;
            retentionYears: number;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** The organisation's school groups */
  getSchoolGroups: {
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: {
                id: string;
                name: string;
                schoolIds: string[];
                /** Format: date-time */
                createdAt: string;
              }[];
            nextCursor: null;
          };
        };
      };
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** Create a school group (Owner) */
  postSchoolGroups: {
    requestBody: {
      content: {
        "application/json": {
          name: string;
          schoolIds: string[];
        };
      };
    };
    responses: {
      /** @description Default Response */
      201: {
        content: {
          "application/json": {
            id: string;
            name: string;
            schoolIds: string[];
            /** Format: date-time */
            createdAt: string;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** One school group */
  getSchoolGroupsById: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            name: string;
            schoolIds: string[];
            /** Format: date-time */
            createdAt: string;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** Delete a school group (Owner) */
  deleteSchoolGroupsById: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Rename a school group or change its schools (Owner) */
  patchSchoolGroupsById: {
    parameters: {
      path: {
        id: string;
      };
    };
    requestBody: {
      content: {
        "application/json": {
          name?: string;
          schoolIds?: string[];
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            name: string;
            schoolIds: string[];
            /** Format: date-time */
            createdAt: string;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Sign in
   * @description Sets an HttpOnly session cookie and also returns the token for `Authorization: Bearer`. Requests signed in by cookie that change anything must send `x-csrf-token` with the returned `csrfToken`. With two-factor sign-in on, `totp` (the current 6-digit code, or an unused recovery code) is needed too: without it the answer is 401 `totp_required`, with a wrong or already used one 401 `invalid_code`. After 10 failed attempts (passwords or codes) for an email within 15 minutes, or 50 from one client address whatever the emails, further attempts answer 429 (`too_many_attempts`, `too_many_attempts_from_address`) with `Retry-After` (seconds until the oldest counted failure leaves the window); more than 60 requests a minute from one address answer 429 `rate_limited` (each configurable). An email may have an account in more than one organisation: when the password is right for several, the answer is 409 `choose_organisation` with `organisations: [{ id, name }]` (only those), and the same request with `organisationId` signs in to that one. `mfaEnrolmentRequired: true` when a school asks this user (a holder of a clearance, or of Deputy DSL or higher there) to enrol two-factor sign-in and they have not: the session then reaches only `GET /me`, `POST /me/totp`, `POST /me/totp/confirm` and `POST /auth/logout` (anything else is 403 `mfa_enrolment_required`) until enrolment is confirmed.
   */
  postAuthLogin: {
    requestBody: {
      content: {
        "application/json": {
          email: string;
          password: string;
          totp?: string;
          organisationId?: string;
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            token: string;
            csrfToken: string;
            /** Format: date-time */
            expiresAt: string;
            user: {
              id: string;
              email: string;
              name: string;
              /** @enum {string} */
              status: "invited" | "active" | "disabled";
              /** Format: date-time */
              createdAt: string;
              /** Format: date-time */
              updatedAt: string;
              /** Format: date-time */
              disabledAt: string | null;
              /** Format: date-time */
              lastSignInAt: string | null;
              organisation: {
                id: string;
                name: string;
              };
              roles: ({
                  grantId: string | null;
                  /** @enum {string} */
                  role: "owner" | "dsl" | "deputy_dsl" | "admin" | "viewer";
                  scope: {
                    /** @enum {string} */
                    type: "organisation" | "school_group" | "school";
                    id: string;
                    name: string;
                  };
                  source: OneOf<[{
                    /** @enum {string} */
                    type: "direct";
                  }, {
                    /** @enum {string} */
                    type: "user_group";
                    userGroupId: string | null;
                    userGroupName: string | null;
                  }]>;
                  /** Format: date-time */
                  since: string;
                })[];
              abilities: string[];
              /** @enum {string} */
              totpStatus: "off" | "pending" | "active";
              /** Format: date-time */
              mfaAt: string | null;
              mfaEnrolmentRequired: boolean;
              csrfToken?: string;
            };
            mfaEnrolmentRequired: boolean;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      409: components["responses"]["Conflict"];
      429: components["responses"]["TooManyRequests"];
      default: components["responses"]["Problem"];
    };
  };
  /** Sign out: ends this session */
  postAuthLogout: {
    responses: {
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** The caller, with roles per scope */
  getMe: {
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            email: string;
            name: string;
            /** @enum {string} */
            status: "invited" | "active" | "disabled";
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
            /** Format: date-time */
            disabledAt: string | null;
            /** Format: date-time */
            lastSignInAt: string | null;
            organisation: {
              id: string;
              name: string;
            };
            roles: ({
                grantId: string | null;
                /** @enum {string} */
                role: "owner" | "dsl" | "deputy_dsl" | "admin" | "viewer";
                scope: {
                  /** @enum {string} */
                  type: "organisation" | "school_group" | "school";
                  id: string;
                  name: string;
                };
                source: OneOf<[{
                  /** @enum {string} */
                  type: "direct";
                }, {
                  /** @enum {string} */
                  type: "user_group";
                  userGroupId: string | null;
                  userGroupName: string | null;
                }]>;
                /** Format: date-time */
                since: string;
              })[];
            abilities: string[];
            /** @enum {string} */
            totpStatus: "off" | "pending" | "active";
            /** Format: date-time */
            mfaAt: string | null;
            mfaEnrolmentRequired: boolean;
            csrfToken?: string;
          };
        };
      };
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Start setting up two-factor sign-in (TOTP)
   * @description Answers a new base32 secret (SHA-1, 6 digits, 30 s), its `otpauth://` URI and that URI as a QR code (PNG data URL). Calling it again before confirming restarts with a new secret. 409 `conflict` once two-factor sign-in is on.
   */
  postMeTotp: {
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            secret: string;
            otpauthUri: string;
            qrCode: string;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Turn two-factor sign-in off
   * @description Needs a current code or an unused recovery code (wrong or used: 401 `invalid_code`, counted like a failed sign-in). The recovery codes are deleted too. 409 `totp_not_enabled` if it is not on.
   */
  deleteMeTotp: {
    requestBody: {
      content: {
        "application/json": {
          code: string;
        };
      };
    };
    responses: {
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Turn two-factor sign-in on with a code from the app
   * @description Answers 10 one-time recovery codes, shown only this once. From now on sign-in needs a code, and this session counts as having passed TOTP. A wrong code answers 400 `invalid_code`; 409 `conflict` if nothing is pending or it is already on.
   */
  postMeTotpConfirm: {
    requestBody: {
      content: {
        "application/json": {
          code: string;
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            recoveryCodes: string[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Pass a two-factor check in this session
   * @description With a current code from the authenticator app, this session counts as having passed TOTP from now (`mfaAt`), as reading child-protection and allegation records needs. A wrong or already used code answers 401 `invalid_code` and counts like a failed sign-in; 409 `totp_not_enabled` without two-factor sign-in.
   */
  postAuthStepUp: {
    requestBody: {
      content: {
        "application/json": {
          code: string;
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            /** Format: date-time */
            mfaAt: string;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * List users (Admin), each with the roles they hold and where each comes from
   * @description `q` searches names and emails; `inGroup=none` lists users in no user group (orphaned); `inGroup=<id>` the members of one group. `status`: `invited` (never signed in nor set a password), `active`, `disabled`, `enabled` (invited or active) or `all` (the default). `role` lists those holding exactly that role now (directly or through a group; a Deputy DSL is not listed under `dsl`); `scopeType` with `scopeId` those holding it (or, without `role`, any role) at a scope covering that one: the organisation, a school group holding the school, or the scope itself.
   */
  getUsers: {
    parameters: {
      query?: {
        limit?: number;
        cursor?: string;
        q?: string;
        inGroup?: string;
        status?: "invited" | "active" | "disabled" | "enabled" | "all";
        role?: "owner" | "dsl" | "deputy_dsl" | "admin" | "viewer";
        scopeType?: "organisation" | "school_group" | "school";
        scopeId?: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: ({
                id: string;
                email: string;
                name: string;
                /** @enum {string} */
                status: "invited" | "active" | "disabled";
                /** Format: date-time */
                createdAt: string;
                /** Format: date-time */
                updatedAt: string;
                /** Format: date-time */
                disabledAt: string | null;
                /** Format: date-time */
                lastSignInAt: string | null;
                invitation: {
                  /** Format: date-time */
                  sentAt: string;
                  /** Format: date-time */
                  expiresAt: string;
                } | null;
                roles: ({
                    grantId: string | null;
                    /** @enum {string} */
                    role: "owner" | "dsl" | "deputy_dsl" | "admin" | "viewer";
                    scope: {
                      /** @enum {string} */
                      type: "organisation" | "school_group" | "school";
                      id: string;
                      name: string;
                    };
                    source: OneOf<[{
                      /** @enum {string} */
                      type: "direct";
                    }, {
                      /** @enum {string} */
                      type: "user_group";
                      userGroupId: string | null;
                      userGroupName: string | null;
                    }]>;
                    /** Format: date-time */
                    since: string;
                  })[];
              })[];
            nextCursor: string | null;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Add a user (Admin); new users hold only Member until given a role
   * @description Give a `password`, or `invite: true` to email the person a link to choose their own (valid 7 days, once; `invitation` in the answer), or neither (they cannot sign in until invited or given single sign-on). Without email set up (`HAVEN_SMTP_URL`), `invite` answers 409 `email_off` and adds nobody.
   */
  postUsers: {
    requestBody: {
      content: {
        "application/json": {
          /** Format: email */
          email: string;
          name: string;
          password?: string;
          invite?: boolean;
        };
      };
    };
    responses: {
      /** @description Default Response */
      201: {
        content: {
          "application/json": {
            id: string;
            email: string;
            name: string;
            /** @enum {string} */
            status: "invited" | "active" | "disabled";
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
            /** Format: date-time */
            disabledAt: string | null;
            /** Format: date-time */
            lastSignInAt: string | null;
            invitation: {
              /** Format: date-time */
              sentAt: string;
              /** Format: date-time */
              expiresAt: string;
            } | null;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Import staff from CSV as the MIS exports it (Admin); new people hold only Member
   * @description Send `text/csv` with an email column ("Work Email", "Email"...) and a name ("Name", or "Forename" and "Surname", preferred names first): docs/imports.md. A person whose email the organisation holds keeps their account and has their name updated (an edit, audited); the others are added holding only Member. Columns not used ("Title", "Staff Code"...) are listed in `ignoredColumns`. `dryRun`, `onError` and `runId` work as for the students import; `invite=true` emails each new person an invitation (409 `email_off` without email set up). Every import is audited (`import.finish`: the run, its kind, status and counts).
   */
  postUsersImport: {
    parameters: {
      query?: {
        dryRun?: "true" | "false";
        onError?: "stop" | "skip";
        runId?: string;
        invite?: "true" | "false";
      };
    };
    requestBody: {
      content: {
        "application/json": string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            runId: string;
            dryRun: boolean;
            /** @enum {string} */
            onError: "stop" | "skip";
            rows: number;
            created: number;
            updated: number;
            unchanged: number;
            skipped: number;
            plan: {
              create: number;
              update: number;
              unchanged: number;
              skip: number;
            };
            errors: {
                line: number;
                column: string;
                message: string;
                text: string;
                file?: string;
              }[];
            ignoredColumns: string[];
            columns: {
                column: string;
                field: string;
              }[];
            invited: number;
            createdIds: string[];
          };
        };
      };
      /** @description Default Response */
      201: {
        content: {
          "application/json": {
            runId: string;
            dryRun: boolean;
            /** @enum {string} */
            onError: "stop" | "skip";
            rows: number;
            created: number;
            updated: number;
            unchanged: number;
            skipped: number;
            plan: {
              create: number;
              update: number;
              unchanged: number;
              skip: number;
            };
            errors: {
                line: number;
                column: string;
                message: string;
                text: string;
                file?: string;
              }[];
            ignoredColumns: string[];
            columns: {
                column: string;
                field: string;
              }[];
            invited: number;
            createdIds: string[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** One user, with the roles they hold and where each comes from (Admin) */
  getUsersById: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            email: string;
            name: string;
            /** @enum {string} */
            status: "invited" | "active" | "disabled";
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
            /** Format: date-time */
            disabledAt: string | null;
            /** Format: date-time */
            lastSignInAt: string | null;
            invitation: {
              /** Format: date-time */
              sentAt: string;
              /** Format: date-time */
              expiresAt: string;
            } | null;
            roles: ({
                grantId: string | null;
                /** @enum {string} */
                role: "owner" | "dsl" | "deputy_dsl" | "admin" | "viewer";
                scope: {
                  /** @enum {string} */
                  type: "organisation" | "school_group" | "school";
                  id: string;
                  name: string;
                };
                source: OneOf<[{
                  /** @enum {string} */
                  type: "direct";
                }, {
                  /** @enum {string} */
                  type: "user_group";
                  userGroupId: string | null;
                  userGroupName: string | null;
                }]>;
                /** Format: date-time */
                since: string;
              })[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** Remove a user from the organisation (Owner) */
  deleteUsersById: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Rename, disable or re-enable a user (Admin); disabling ends their sessions */
  patchUsersById: {
    parameters: {
      path: {
        id: string;
      };
    };
    requestBody: {
      content: {
        "application/json": {
          name?: string;
          disabled?: boolean;
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            email: string;
            name: string;
            /** @enum {string} */
            status: "invited" | "active" | "disabled";
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
            /** Format: date-time */
            disabledAt: string | null;
            /** Format: date-time */
            lastSignInAt: string | null;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Change my password; my other sessions end */
  postMePassword: {
    requestBody: {
      content: {
        "application/json": {
          currentPassword: string;
          newPassword: string;
        };
      };
    };
    responses: {
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Whether a user has two-factor sign-in on, and whether I may reset it (DSL) */
  getUsersByIdTotp: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            /** @enum {string} */
            status: "off" | "pending" | "active";
            abilities: {
              reset: boolean;
            };
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Reset another person’s two-factor sign-in (Owner; DSL for staff of their schools)
   * @description For a lost or stolen phone: deletes their enrolment and recovery codes and ends every session of theirs; audited, and raised as a security alert to the Owners and DSLs over where they hold roles. They sign in with their password alone, and set two-factor up again where their school asks. An Owner resets anyone’s; a DSL that of people holding roles only at scopes where the DSL holds DSL or Owner, and none above their own (403 `forbidden`). Never one’s own (403 `totp_reset_own`: use `DELETE /api/v1/me/totp` with a code). 409 `totp_not_enabled` when it is not on.
   */
  deleteUsersByIdTotp: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Current role grants, optionally of one user or user group (Admin) */
  getRoleGrants: {
    parameters: {
      query?: {
        userId?: string;
        userGroupId?: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: ({
                id: string;
                subject: {
                  /** @enum {string} */
                  type: "user" | "user_group";
                  id: string;
                };
                /** @enum {string} */
                role: "owner" | "dsl" | "deputy_dsl" | "admin" | "viewer";
                scope: {
                  /** @enum {string} */
                  type: "organisation" | "school_group" | "school";
                  id: string;
                };
                grantedBy: string | null;
                reason: string | null;
                validFrom: string;
              })[];
            nextCursor: null;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Grant a role at a scope to a user or user group
   * @description Owner can only be granted by an Owner whose scope covers the target; other roles by an Admin or higher there, and to a user group only by an Admin at its home. Nobody grants a role to themselves or to a group they are in (403 `self_grant`), an Owner at the organisation aside. `member` is not grantable. `reason` is kept with the grant and in the audit log.
   */
  postRoleGrants: {
    requestBody: {
      content: {
        "application/json": {
          subject: {
            /** @enum {string} */
            type: "user" | "user_group";
            id: string;
          };
          /** @enum {string} */
          role: "owner" | "dsl" | "deputy_dsl" | "admin" | "viewer";
          scope: {
            /** @enum {string} */
            type: "organisation" | "school_group" | "school";
            id: string;
          };
          reason?: string;
        };
      };
    };
    responses: {
      /** @description Default Response */
      201: {
        content: {
          "application/json": {
            id: string;
            subject: {
              /** @enum {string} */
              type: "user" | "user_group";
              id: string;
            };
            /** @enum {string} */
            role: "owner" | "dsl" | "deputy_dsl" | "admin" | "viewer";
            scope: {
              /** @enum {string} */
              type: "organisation" | "school_group" | "school";
              id: string;
            };
            grantedBy: string | null;
            reason: string | null;
            validFrom: string;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Revoke a role grant */
  deleteRoleGrantsById: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Changes and refused requests, newest first (Admin; of their own schools)
   * @description Admin or higher at the organisation reads every row; an Admin of some schools (or school groups) reads the rows that belong to those schools: their children, records, categories, student groups, user groups homed there, role grants there, the schools themselves, and people whose every role is there (with their sign-ins, exports and refused requests). `schoolId` narrows to one school the caller oversees (403 otherwise). Rows about records the caller may not read are left out.
   */
  getAuditLog: {
    parameters: {
      query?: {
        limit?: number;
        cursor?: string;
        category?: "change" | "denied" | "access";
        action?: string;
        actorId?: string;
        targetId?: string;
        schoolId?: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: ({
                id: string;
                seq: number;
                chain: string;
                at: string;
                category: string;
                action: string;
                actor: {
                  id: string;
                  name: string;
                } | null;
                target: ({
                  type: string;
                  id: string | null;
                }) | null;
                before: unknown;
                after: unknown;
                meta: unknown;
                withheld: boolean;
                destroyed: boolean;
                record?: ({
                  type: string;
                  id: string | null;
                  label: string | null;
                }) | null;
                allowedBy?: ({
                  /** @enum {string} */
                  kind: "user_group" | "direct_link" | "reporter" | "assignee" | "assigned_group";
                  userGroup: ({
                    id: string | null;
                    name: string | null;
                  }) | null;
                  studentGroup: ({
                    id: string;
                    name: string | null;
                  }) | null;
                  student: ({
                    id: string;
                    name: string | null;
                  }) | null;
                }) | null;
              })[];
            nextCursor: string | null;
            names: {
              [key: string]: string;
            };
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Reads of sensitive records and refused reads, with the record and the way in that allowed each
   * @description Admin or higher at the organisation reads every row; an Admin of some schools (or school groups) reads the rows that belong to those schools: their children, records, categories, student groups, user groups homed there, role grants there, the schools themselves, and people whose every role is there (with their sign-ins, exports and refused requests). `schoolId` narrows to one school the caller oversees (403 otherwise). Rows about records the caller may not read are left out.
   */
  getAccessLog: {
    parameters: {
      query?: {
        limit?: number;
        cursor?: string;
        recordId?: string;
        userId?: string;
        schoolId?: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: ({
                id: string;
                seq: number;
                chain: string;
                at: string;
                category: string;
                action: string;
                actor: {
                  id: string;
                  name: string;
                } | null;
                target: ({
                  type: string;
                  id: string | null;
                }) | null;
                before: unknown;
                after: unknown;
                meta: unknown;
                withheld: boolean;
                destroyed: boolean;
                record?: ({
                  type: string;
                  id: string | null;
                  label: string | null;
                }) | null;
                allowedBy?: ({
                  /** @enum {string} */
                  kind: "user_group" | "direct_link" | "reporter" | "assignee" | "assigned_group";
                  userGroup: ({
                    id: string | null;
                    name: string | null;
                  }) | null;
                  studentGroup: ({
                    id: string;
                    name: string | null;
                  }) | null;
                  student: ({
                    id: string;
                    name: string | null;
                  }) | null;
                }) | null;
              })[];
            nextCursor: string | null;
            names: {
              [key: string]: string;
            };
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * The students the caller can see, by family name
   * @description `q` matches every word against the names, or a UPN exactly. Only students the caller can see are ever listed (spec section 3).
   */
  getStudents: {
    parameters: {
      query?: {
        limit?: number;
        cursor?: string;
        q?: string;
        schoolId?: string;
        yearGroup?: number;
        onRoll?: "true" | "false";
        studentGroupId?: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: ({
                id: string;
                schoolId: string;
                upn: string | null;
                givenName: string;
                familyName: string;
                preferredName: string | null;
                dateOfBirth: string | null;
                yearGroup: number | null;
                keyStage: number | null;
                house: string | null;
                /** @enum {string} */
                senStatus: "none" | "K" | "E";
                flags: string[];
                tags: string[];
                onRoll: boolean;
                revision: number;
                /** Format: date-time */
                createdAt: string;
                /** Format: date-time */
                updatedAt: string;
              })[];
            nextCursor: string | null;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** Add a student (Admin at the school) */
  postStudents: {
    requestBody: {
      content: {
        "application/json": {
          schoolId: string;
          upn?: string | null;
          givenName: string;
          familyName: string;
          preferredName?: string | null;
          dateOfBirth?: string | null;
          yearGroup?: number | null;
          house?: string | null;
          /** @enum {string} */
          senStatus?: "none" | "K" | "E";
          flags?: string[];
          tags?: string[];
          onRoll?: boolean;
        };
      };
    };
    responses: {
      /** @description Default Response */
      201: {
        content: {
          "application/json": {
            id: string;
            schoolId: string;
            upn: string | null;
            givenName: string;
            familyName: string;
            preferredName: string | null;
            dateOfBirth: string | null;
            yearGroup: number | null;
            keyStage: number | null;
            house: string | null;
            /** @enum {string} */
            senStatus: "none" | "K" | "E";
            flags: string[];
            tags: string[];
            onRoll: boolean;
            revision: number;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** How many students the caller can see, with the same filters as the list */
  getStudentsCount: {
    parameters: {
      query?: {
        q?: string;
        schoolId?: string;
        yearGroup?: number;
        onRoll?: "true" | "false";
        studentGroupId?: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            count: number;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** CSV of the students the caller can see (the export is logged) */
  getStudentsExport: {
    parameters: {
      query?: {
        q?: string;
        schoolId?: string;
        yearGroup?: number;
        onRoll?: "true" | "false";
        studentGroupId?: string;
      };
    };
    responses: {
      /** @description One row per student the caller can see, with a header row */
      200: {
        content: {
          "text/csv": string;
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Import students from CSV as the school's MIS exports it (Admin)
   * @description Send `text/csv`. The headings of SIMS, Arbor and Bromcom exports are read ("Legal Forename", "Preferred Surname", "DOB", "Reg Group"...) as well as Haven's own (givenName, familyName, school or schoolId, upn, preferredName, dateOfBirth, yearGroup, house, senStatus, flags, tags, onRoll): docs/imports.md. Dates are UK dates (14/03/2016), year groups "9", "Y9", "Year 9" or "R". Columns not used are listed in `ignoredColumns`. A child whose UPN the organisation holds is updated (a revision, audited as an edit), not refused. `schoolId` is the school of every row without a School column (needed when the organisation has several schools). With `dryRun=true` nothing is written and every problem is listed row by row; without it, any problem means nothing is written (400, the problems in `problems`) unless `onError=skip`, which writes the good rows and lists the rest. `runId` (from `POST /api/v1/imports`) lets a page follow the progress of a large file. Every import is audited (`import.finish`: the run, its kind, status and counts).
   */
  postStudentsImport: {
    parameters: {
      query?: {
        dryRun?: "true" | "false";
        onError?: "stop" | "skip";
        runId?: string;
        schoolId?: string;
      };
    };
    requestBody: {
      content: {
        "application/json": string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            runId: string;
            dryRun: boolean;
            /** @enum {string} */
            onError: "stop" | "skip";
            rows: number;
            created: number;
            updated: number;
            unchanged: number;
            skipped: number;
            plan: {
              create: number;
              update: number;
              unchanged: number;
              skip: number;
            };
            errors: {
                line: number;
                column: string;
                message: string;
                text: string;
                file?: string;
              }[];
            ignoredColumns: string[];
            columns: {
                column: string;
                field: string;
              }[];
          };
        };
      };
      /** @description Default Response */
      201: {
        content: {
          "application/json": {
            runId: string;
            dryRun: boolean;
            /** @enum {string} */
            onError: "stop" | "skip";
            rows: number;
            created: number;
            updated: number;
            unchanged: number;
            skipped: number;
            plan: {
              create: number;
              update: number;
              unchanged: number;
              skip: number;
            };
            errors: {
                line: number;
                column: string;
                message: string;
                text: string;
                file?: string;
              }[];
            ignoredColumns: string[];
            columns: {
                column: string;
                field: string;
              }[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** One student (404 if the caller cannot see them) */
  getStudentsById: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            schoolId: string;
            upn: string | null;
            givenName: string;
            familyName: string;
            preferredName: string | null;
            dateOfBirth: string | null;
            yearGroup: number | null;
            keyStage: number | null;
            house: string | null;
            /** @enum {string} */
            senStatus: "none" | "K" | "E";
            flags: string[];
            tags: string[];
            onRoll: boolean;
            revision: number;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** Soft-delete a student (Admin at the school) */
  deleteStudentsById: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Edit a student (Admin at the school) */
  patchStudentsById: {
    parameters: {
      path: {
        id: string;
      };
    };
    requestBody: {
      content: {
        "application/json": {
          schoolId?: string;
          upn?: string | null;
          givenName?: string;
          familyName?: string;
          preferredName?: string | null;
          dateOfBirth?: string | null;
          yearGroup?: number | null;
          house?: string | null;
          /** @enum {string} */
          senStatus?: "none" | "K" | "E";
          flags?: string[];
          tags?: string[];
          onRoll?: boolean;
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            schoolId: string;
            upn: string | null;
            givenName: string;
            familyName: string;
            preferredName: string | null;
            dateOfBirth: string | null;
            yearGroup: number | null;
            keyStage: number | null;
            house: string | null;
            /** @enum {string} */
            senStatus: "none" | "K" | "E";
            flags: string[];
            tags: string[];
            onRoll: boolean;
            revision: number;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Make an import run to follow before its file is sent (Admin)
   * @description Answers a run in `waiting` (audited as `import.start`); pass its id as `runId` to the import and poll `GET /api/v1/imports/:id` while the file uploads, is checked and is written. Making a run needs what importing its kind needs: `students.create` for `students` and `oneroster`, `users.manage` for `staff` (403 otherwise).
   */
  postImports: {
    requestBody: {
      content: {
        "application/json": {
          /** @enum {string} */
          kind: "students" | "staff" | "oneroster";
        };
      };
    };
    responses: {
      /** @description Default Response */
      201: {
        content: {
          "application/json": {
            id: string;
            /** @enum {string} */
            kind: "students" | "staff" | "oneroster";
            /** @enum {string} */
            status: "waiting" | "checking" | "writing" | "checked" | "imported" | "refused" | "failed";
            dryRun: boolean;
            /** @enum {string} */
            onError: "stop" | "skip";
            /** Format: date-time */
            startedAt: string;
            /** Format: date-time */
            updatedAt: string;
            /** Format: date-time */
            finishedAt: string | null;
            totalRows: number;
            processedRows: number;
            rowsToWrite: number;
            writtenRows: number;
            counts: {
              [key: string]: number;
            };
            errorCount: number;
            errors: {
                line: number;
                column: string;
                message: string;
                text: string;
                file?: string;
              }[];
            ignoredColumns: string[];
            failure: string | null;
            /** Format: date-time */
            problemsClearedAt: string | null;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * An import run: its progress, counts and problems (its starter only)
   * @description Only the person who started the run reads it, while they may still import its kind (`students.create` for `students` and `oneroster`, `users.manage` for `staff`); anyone else's run, or another organisation's, is not found (404). The problems, unused columns and failure are blanked 30 days after the run ended (`problemsClearedAt`); the status and counts stay.
   */
  getImportsById: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            /** @enum {string} */
            kind: "students" | "staff" | "oneroster";
            /** @enum {string} */
            status: "waiting" | "checking" | "writing" | "checked" | "imported" | "refused" | "failed";
            dryRun: boolean;
            /** @enum {string} */
            onError: "stop" | "skip";
            /** Format: date-time */
            startedAt: string;
            /** Format: date-time */
            updatedAt: string;
            /** Format: date-time */
            finishedAt: string | null;
            totalRows: number;
            processedRows: number;
            rowsToWrite: number;
            writtenRows: number;
            counts: {
              [key: string]: number;
            };
            errorCount: number;
            errors: {
                line: number;
                column: string;
                message: string;
                text: string;
                file?: string;
              }[];
            ignoredColumns: string[];
            failure: string | null;
            /** Format: date-time */
            problemsClearedAt: string | null;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * The organisation's student groups
   * @description `memberCount` counts only the members the caller can see.
   */
  getStudentGroups: {
    parameters: {
      query?: {
        schoolId?: string;
        kind?: "all" | "manual" | "rule";
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: ({
                id: string;
                name: string;
                description: string;
                schoolId: string | null;
                /** @enum {string} */
                kind: "all" | "manual" | "rule";
                /** @description A condition `{ field, op, value }` or `{ all: [...] }`, `{ any: [...] }`, `{ not: rule }`. Fields: schoolId, yearGroup, keyStage, house, senStatus, flags, tags; ops: eq, in, between, has. */
                rule: {
                  [key: string]: unknown;
                } | null;
                memberCount: number;
                system: boolean;
                /** Format: date-time */
                createdAt: string;
                /** Format: date-time */
                updatedAt: string;
              })[];
            nextCursor: null;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Create a student group (Admin)
   * @description `all`: every student on roll in the school, or in the organisation when `schoolId` is null. `manual`: the `studentIds` given. `rule`: the students the rule matches, kept up to date as students change.
   */
  postStudentGroups: {
    requestBody: {
      content: {
        "application/json": {
          name: string;
          description?: string;
          schoolId: string | null;
          /** @enum {string} */
          kind: "all" | "manual" | "rule";
          /** @description A condition `{ field, op, value }` or `{ all: [...] }`, `{ any: [...] }`, `{ not: rule }`. Fields: schoolId, yearGroup, keyStage, house, senStatus, flags, tags; ops: eq, in, between, has. */
          rule?: unknown;
          studentIds?: string[];
        };
      };
    };
    responses: {
      /** @description Default Response */
      201: {
        content: {
          "application/json": {
            id: string;
            name: string;
            description: string;
            schoolId: string | null;
            /** @enum {string} */
            kind: "all" | "manual" | "rule";
            /** @description A condition `{ field, op, value }` or `{ all: [...] }`, `{ any: [...] }`, `{ not: rule }`. Fields: schoolId, yearGroup, keyStage, house, senStatus, flags, tags; ops: eq, in, between, has. */
            rule: {
              [key: string]: unknown;
            } | null;
            memberCount: number;
            system: boolean;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Who a rule would match: how many of them the caller can see, and the first few */
  postStudentGroupsPreview: {
    requestBody: {
      content: {
        "application/json": {
          schoolId: string | null;
          /** @description A condition `{ field, op, value }` or `{ all: [...] }`, `{ any: [...] }`, `{ not: rule }`. Fields: schoolId, yearGroup, keyStage, house, senStatus, flags, tags; ops: eq, in, between, has. */
          rule: unknown;
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            count: number;
            sample: ({
                id: string;
                schoolId: string;
                upn: string | null;
                givenName: string;
                familyName: string;
                preferredName: string | null;
                dateOfBirth: string | null;
                yearGroup: number | null;
                keyStage: number | null;
                house: string | null;
                /** @enum {string} */
                senStatus: "none" | "K" | "E";
                flags: string[];
                tags: string[];
                onRoll: boolean;
                revision: number;
                /** Format: date-time */
                createdAt: string;
                /** Format: date-time */
                updatedAt: string;
              })[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** One student group */
  getStudentGroupsById: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            name: string;
            description: string;
            schoolId: string | null;
            /** @enum {string} */
            kind: "all" | "manual" | "rule";
            /** @description A condition `{ field, op, value }` or `{ all: [...] }`, `{ any: [...] }`, `{ not: rule }`. Fields: schoolId, yearGroup, keyStage, house, senStatus, flags, tags; ops: eq, in, between, has. */
            rule: {
              [key: string]: unknown;
            } | null;
            memberCount: number;
            system: boolean;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** Delete a student group; links to it end */
  deleteStudentGroupsById: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Rename a student group or change its rule (members follow at once) */
  patchStudentGroupsById: {
    parameters: {
      path: {
        id: string;
      };
    };
    requestBody: {
      content: {
        "application/json": {
          name?: string;
          description?: string;
          /** @description A condition `{ field, op, value }` or `{ all: [...] }`, `{ any: [...] }`, `{ not: rule }`. Fields: schoolId, yearGroup, keyStage, house, senStatus, flags, tags; ops: eq, in, between, has. */
          rule?: unknown;
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            name: string;
            description: string;
            schoolId: string | null;
            /** @enum {string} */
            kind: "all" | "manual" | "rule";
            /** @description A condition `{ field, op, value }` or `{ all: [...] }`, `{ any: [...] }`, `{ not: rule }`. Fields: schoolId, yearGroup, keyStage, house, senStatus, flags, tags; ops: eq, in, between, has. */
            rule: {
              [key: string]: unknown;
            } | null;
            memberCount: number;
            system: boolean;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * The user groups linked to this student group, whose members see its children
   * @description Only the groups the caller may see (the user-group policy), with their home, member count, since when and the link's rationale. `otherGroups`: for an Admin over the student group, how many more are linked from homes they do not administer; null for others.
   */
  getStudentGroupsByIdLinkedUserGroups: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: ({
                id: string;
                name: string;
                homeScope: {
                  /** @enum {string} */
                  type: "organisation" | "school_group" | "school";
                  id: string;
                  name: string;
                };
                memberCount: number;
                linkId: string;
                /** Format: date-time */
                since: string;
                rationale: string | null;
              })[];
            otherGroups: number | null;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** The group's members that the caller can see */
  getStudentGroupsByIdStudents: {
    parameters: {
      query?: {
        limit?: number;
        cursor?: string;
      };
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: ({
                id: string;
                schoolId: string;
                upn: string | null;
                givenName: string;
                familyName: string;
                preferredName: string | null;
                dateOfBirth: string | null;
                yearGroup: number | null;
                keyStage: number | null;
                house: string | null;
                /** @enum {string} */
                senStatus: "none" | "K" | "E";
                flags: string[];
                tags: string[];
                onRoll: boolean;
                revision: number;
                /** Format: date-time */
                createdAt: string;
                /** Format: date-time */
                updatedAt: string;
              })[];
            nextCursor: string | null;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** Put students in a manual group (Admin) */
  postStudentGroupsByIdStudents: {
    parameters: {
      path: {
        id: string;
      };
    };
    requestBody: {
      content: {
        "application/json": {
          studentIds: string[];
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            added: number;
            removed: number;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Take a student out of a manual group (Admin) */
  deleteStudentGroupsByIdStudentsByStudentId: {
    parameters: {
      path: {
        id: string;
        studentId: string;
      };
    };
    responses: {
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** User groups the caller may see: those homed where they are Admin, and those they own or belong to */
  getUserGroups: {
    parameters: {
      query?: {
        limit?: number;
        cursor?: string;
        q?: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: ({
                id: string;
                name: string;
                description: string;
                memberCount: number;
                system: boolean;
                homeScope: {
                  /** @enum {string} */
                  type: "organisation" | "school_group" | "school";
                  id: string;
                };
                /** Format: date-time */
                lastReviewedAt: string | null;
                lastReviewId: string | null;
              })[];
            nextCursor: string | null;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Create a user group (Admin at its home scope)
   * @description The group is administered from `homeScope` (organisation, school group or school), where the caller must be Admin or higher. Omitted: the organisation for an Admin there, otherwise the one broadest scope the caller administers; when there is no single one, 400 naming `homeScope`.
   */
  postUserGroups: {
    requestBody: {
      content: {
        "application/json": {
          name: string;
          description?: string;
          rationale?: string;
          homeScope?: {
            /** @enum {string} */
            type: "organisation" | "school_group" | "school";
            id: string;
          };
        };
      };
    };
    responses: {
      /** @description Default Response */
      201: {
        content: {
          "application/json": {
            id: string;
            name: string;
            description: string;
            rationale: string;
            memberCount: number;
            system: boolean;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
            homeScope: {
              /** @enum {string} */
              type: "organisation" | "school_group" | "school";
              id: string;
              name: string;
            };
            owners: {
                id: string;
                name: string;
                email: string;
              }[];
            clearances: ("child_protection" | "allegations")[];
            roleGrants: ({
                id: string;
                /** @enum {string} */
                role: "owner" | "dsl" | "deputy_dsl" | "admin" | "viewer";
                scope: {
                  /** @enum {string} */
                  type: "organisation" | "school_group" | "school";
                  id: string;
                };
                reason: string | null;
              })[];
            /** Format: date-time */
            lastReviewedAt: string | null;
            lastReviewId: string | null;
            studentLinks: ({
                id: string;
                /** Format: date-time */
                since: string;
                studentGroup: {
                  id: string;
                  name: string;
                  kind: string;
                  size: number;
                } | null;
                student: {
                  id: string;
                  name: string;
                } | null;
                redacted: boolean;
              })[];
            abilities: {
              view: boolean;
              viewMembers: boolean;
              edit: boolean;
              editDetails: boolean;
              delete: boolean;
              manageMembers: boolean;
              manageOwners: boolean;
              managePermissionSets: boolean;
              manageLinks: boolean;
              manageClearances: boolean;
              manageRoles: boolean;
            };
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Where the caller may home a new group (scopes where they are Admin), and the default */
  getUserGroupsHomes: {
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: ({
                /** @enum {string} */
                type: "organisation" | "school_group" | "school";
                id: string;
                name: string;
              })[];
            default: ({
              /** @enum {string} */
              type: "organisation" | "school_group" | "school";
              id: string;
            }) | null;
          };
        };
      };
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** A user group with its owners, grants, links, clearances and what the caller may do */
  getUserGroupsById: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            name: string;
            description: string;
            rationale: string;
            memberCount: number;
            system: boolean;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
            homeScope: {
              /** @enum {string} */
              type: "organisation" | "school_group" | "school";
              id: string;
              name: string;
            };
            owners: {
                id: string;
                name: string;
                email: string;
              }[];
            clearances: ("child_protection" | "allegations")[];
            roleGrants: ({
                id: string;
                /** @enum {string} */
                role: "owner" | "dsl" | "deputy_dsl" | "admin" | "viewer";
                scope: {
                  /** @enum {string} */
                  type: "organisation" | "school_group" | "school";
                  id: string;
                };
                reason: string | null;
              })[];
            /** Format: date-time */
            lastReviewedAt: string | null;
            lastReviewId: string | null;
            studentLinks: ({
                id: string;
                /** Format: date-time */
                since: string;
                studentGroup: {
                  id: string;
                  name: string;
                  kind: string;
                  size: number;
                } | null;
                student: {
                  id: string;
                  name: string;
                } | null;
                redacted: boolean;
              })[];
            abilities: {
              view: boolean;
              viewMembers: boolean;
              edit: boolean;
              editDetails: boolean;
              delete: boolean;
              manageMembers: boolean;
              manageOwners: boolean;
              managePermissionSets: boolean;
              manageLinks: boolean;
              manageClearances: boolean;
              manageRoles: boolean;
            };
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** Delete a group: everything it conferred ends (Admin or owner) */
  deleteUserGroupsById: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Rename a group or change its description and rationale (Admin or owner) */
  patchUserGroupsById: {
    parameters: {
      path: {
        id: string;
      };
    };
    requestBody: {
      content: {
        "application/json": {
          name?: string;
          description?: string;
          rationale?: string;
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            name: string;
            description: string;
            rationale: string;
            memberCount: number;
            system: boolean;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
            homeScope: {
              /** @enum {string} */
              type: "organisation" | "school_group" | "school";
              id: string;
              name: string;
            };
            owners: {
                id: string;
                name: string;
                email: string;
              }[];
            clearances: ("child_protection" | "allegations")[];
            roleGrants: ({
                id: string;
                /** @enum {string} */
                role: "owner" | "dsl" | "deputy_dsl" | "admin" | "viewer";
                scope: {
                  /** @enum {string} */
                  type: "organisation" | "school_group" | "school";
                  id: string;
                };
                reason: string | null;
              })[];
            /** Format: date-time */
            lastReviewedAt: string | null;
            lastReviewId: string | null;
            studentLinks: ({
                id: string;
                /** Format: date-time */
                since: string;
                studentGroup: {
                  id: string;
                  name: string;
                  kind: string;
                  size: number;
                } | null;
                student: {
                  id: string;
                  name: string;
                } | null;
                redacted: boolean;
              })[];
            abilities: {
              view: boolean;
              viewMembers: boolean;
              edit: boolean;
              editDetails: boolean;
              delete: boolean;
              manageMembers: boolean;
              manageOwners: boolean;
              managePermissionSets: boolean;
              manageLinks: boolean;
              manageClearances: boolean;
              manageRoles: boolean;
            };
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** A group's members by name, searchable */
  getUserGroupsByIdMembers: {
    parameters: {
      query?: {
        limit?: number;
        cursor?: string;
        q?: string;
      };
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: {
                id: string;
                name: string;
                email: string;
                status: string;
              }[];
            nextCursor: string | null;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** Add up to 10000 members (Admin or owner; no one passes on a role or clearance they could not grant) */
  postUserGroupsByIdMembers: {
    parameters: {
      path: {
        id: string;
      };
    };
    requestBody: {
      content: {
        "application/json": {
          userIds: string[];
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            added: number;
            alreadyMembers: number;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Staff who could be added to the group or named in its permission sets (names only)
   * @description For those who may manage the group's members, owners or permission sets, whatever their role (a set holder need not be able to list users): live users of the organisation by name, at most 20, `q` narrowing by name or email. 403 for anyone else who sees the group, 404 for those who do not.
   */
  getUserGroupsByIdCandidates: {
    parameters: {
      query?: {
        q?: string;
      };
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: {
                id: string;
                name: string;
                email: string;
              }[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** Remove a member: their access through the group ends on their next request */
  deleteUserGroupsByIdMembersByUserId: {
    parameters: {
      path: {
        id: string;
        userId: string;
      };
    };
    responses: {
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Add owners (at most 10) */
  postUserGroupsByIdOwners: {
    parameters: {
      path: {
        id: string;
      };
    };
    requestBody: {
      content: {
        "application/json": {
          userIds: string[];
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            added: number;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Remove an owner */
  deleteUserGroupsByIdOwnersByUserId: {
    parameters: {
      path: {
        id: string;
        userId: string;
      };
    };
    responses: {
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Link the group to a student group or a student (Admin where the students are)
   * @description A link to an "All students" group needs `confirm: true` and a non-empty `rationale`, kept with the link and in the audit log; without them 409 `all_students_confirmation_required` and nothing is linked.
   */
  postUserGroupsByIdStudentLinks: {
    parameters: {
      path: {
        id: string;
      };
    };
    requestBody: {
      content: {
        "application/json": {
          studentGroupId: string;
          confirm?: boolean;
          rationale?: string;
        } | {
          studentId: string;
          confirm?: boolean;
          rationale?: string;
        };
      };
    };
    responses: {
      /** @description Default Response */
      201: {
        content: {
          "application/json": {
            id: string;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** End a link */
  deleteUserGroupsByIdStudentLinksByLinkId: {
    parameters: {
      path: {
        id: string;
        linkId: string;
      };
    };
    responses: {
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Set the group's clearances (only a holder of a clearance, or an Owner, confers or removes it) */
  putUserGroupsByIdClearances: {
    parameters: {
      path: {
        id: string;
      };
    };
    requestBody: {
      content: {
        "application/json": {
          clearances: ("child_protection" | "allegations")[];
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            clearances: ("child_protection" | "allegations")[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * The group's permission sets: Owners, Members, Everyone, then custom sets by name, with their assignees
   * @description Members and Everyone list no assignees (they are implicit). A user group assignee the caller may not see is answered withheld (no id, name or count). `abilities.manage`: whether the caller may change the sets.
   */
  getUserGroupsByIdPermissionSets: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: ({
                id: string;
                /** @enum {string} */
                kind: "owners" | "members" | "everyone" | "custom";
                name: string;
                permissions: ("view" | "view_members" | "edit_details" | "manage_members" | "delete")[];
                fixed: boolean;
                assignees: ({
                    /** @enum {string} */
                    type: "user";
                    id: string;
                    name: string;
                    email: string;
                  } | {
                    /** @enum {string} */
                    type: "user_group";
                    id: string;
                    name: string;
                    memberCount: number;
                  } | {
                    /** @enum {string} */
                    type: "user_group";
                    id: null;
                    name: null;
                    memberCount: null;
                    /** @enum {boolean} */
                    withheld: true;
                  })[];
              })[];
            abilities: {
              manage: boolean;
            };
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Add a custom permission set (Admin or owner; at most 20 sets per group, Owners, Members and Everyone included)
   * @description Assignees are users, or user groups whose members hold the set while they are members (at most 1000). On a group that holds a role or a clearance, a set with `manage_members` or `delete` needs the writer to be able to pass them on (403), and each user assignee too (409 `permission_set_escalation`).
   */
  postUserGroupsByIdPermissionSets: {
    parameters: {
      path: {
        id: string;
      };
    };
    requestBody: {
      content: {
        "application/json": {
          name: string;
          permissions: ("view" | "view_members" | "edit_details" | "manage_members" | "delete")[];
          assignees: ({
              /** @enum {string} */
              type: "user" | "user_group";
              id: string;
            })[];
        };
      };
    };
    responses: {
      /** @description Default Response */
      201: {
        content: {
          "application/json": {
            id: string;
            /** @enum {string} */
            kind: "owners" | "members" | "everyone" | "custom";
            name: string;
            permissions: ("view" | "view_members" | "edit_details" | "manage_members" | "delete")[];
            fixed: boolean;
            assignees: ({
                /** @enum {string} */
                type: "user";
                id: string;
                name: string;
                email: string;
              } | {
                /** @enum {string} */
                type: "user_group";
                id: string;
                name: string;
                memberCount: number;
              } | {
                /** @enum {string} */
                type: "user_group";
                id: null;
                name: null;
                memberCount: null;
                /** @enum {boolean} */
                withheld: true;
              })[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Delete a custom permission set: its assignees lose it on their next request (Owners, Members and Everyone stay: 409) */
  deleteUserGroupsByIdPermissionSetsBySetId: {
    parameters: {
      path: {
        id: string;
        setId: string;
      };
    };
    responses: {
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Change a permission set: a custom set's name, permissions or whole assignee list
   * @description Owners is fixed (409 `permission_set_fixed`); of Members and Everyone only `permissions` may change (422 for `name` or `assignees`). Assigned groups the caller may not see are kept.
   */
  patchUserGroupsByIdPermissionSetsBySetId: {
    parameters: {
      path: {
        id: string;
        setId: string;
      };
    };
    requestBody: {
      content: {
        "application/json": {
          name?: string;
          permissions?: ("view" | "view_members" | "edit_details" | "manage_members" | "delete")[];
          assignees?: ({
              /** @enum {string} */
              type: "user" | "user_group";
              id: string;
            })[];
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            /** @enum {string} */
            kind: "owners" | "members" | "everyone" | "custom";
            name: string;
            permissions: ("view" | "view_members" | "edit_details" | "manage_members" | "delete")[];
            fixed: boolean;
            assignees: ({
                /** @enum {string} */
                type: "user";
                id: string;
                name: string;
                email: string;
              } | {
                /** @enum {string} */
                type: "user_group";
                id: string;
                name: string;
                memberCount: number;
              } | {
                /** @enum {string} */
                type: "user_group";
                id: null;
                name: null;
                memberCount: null;
                /** @enum {boolean} */
                withheld: true;
              })[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Apply a list of edits atomically: all of them, or none
   * @description If any operation fails, the answer is the error of the first failing one (with `operationIndex`), and no operation is applied. With `accessReviewId` and `accessReviewItemId` the edits are made through that item of an open access review, by one who may decide it; every audit row of the change carries both ids.
   */
  postUserGroupsByIdBatch: {
    parameters: {
      path: {
        id: string;
      };
    };
    requestBody: {
      content: {
        "application/json": {
          operations: ({
              /** @enum {string} */
              op: "addMembers";
              userIds: string[];
            } | {
              /** @enum {string} */
              op: "removeMembers";
              userIds: string[];
            } | {
              /** @enum {string} */
              op: "addOwners";
              userIds: string[];
            } | {
              /** @enum {string} */
              op: "removeOwners";
              userIds: string[];
            } | {
              /** @enum {string} */
              op: "addStudentLink";
              studentGroupId?: string;
              studentId?: string;
              confirm?: boolean;
              rationale?: string;
            } | {
              /** @enum {string} */
              op: "removeStudentLink";
              linkId: string;
            } | ({
              /** @enum {string} */
              op: "setClearances";
              clearances: ("child_protection" | "allegations")[];
            }) | ({
              /** @enum {string} */
              op: "createPermissionSet";
              name: string;
              permissions: ("view" | "view_members" | "edit_details" | "manage_members" | "delete")[];
              assignees: ({
                  /** @enum {string} */
                  type: "user" | "user_group";
                  id: string;
                })[];
            }) | ({
              /** @enum {string} */
              op: "updatePermissionSet";
              setId: string;
              name?: string;
              permissions?: ("view" | "view_members" | "edit_details" | "manage_members" | "delete")[];
              assignees?: ({
                  /** @enum {string} */
                  type: "user" | "user_group";
                  id: string;
                })[];
            }) | {
              /** @enum {string} */
              op: "deletePermissionSet";
              setId: string;
            } | {
              /** @enum {string} */
              op: "update";
              name?: string;
              description?: string;
              rationale?: string;
            })[];
          accessReviewId?: string;
          accessReviewItemId?: string;
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            applied: number;
            results: unknown[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** A user's direct links (children the caller cannot see are redacted) */
  getUsersByIdStudentLinks: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: ({
                id: string;
                /** Format: date-time */
                since: string;
                student: {
                  id: string;
                  name: string;
                } | null;
                redacted: boolean;
              })[];
            nextCursor: null;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** Link a user directly to one student (external partners; Admin at the school) */
  postUsersByIdStudentLinks: {
    parameters: {
      path: {
        id: string;
      };
    };
    requestBody: {
      content: {
        "application/json": {
          studentId: string;
        };
      };
    };
    responses: {
      /** @description Default Response */
      201: {
        content: {
          "application/json": {
            id: string;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** End a direct link */
  deleteUsersByIdStudentLinksByLinkId: {
    parameters: {
      path: {
        id: string;
        linkId: string;
      };
    };
    responses: {
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Current blocks on children the caller can see */
  getBlocks: {
    parameters: {
      query?: {
        limit?: number;
        cursor?: string;
        userId?: string;
        studentId?: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: ({
                id: string;
                userId: string;
                studentId: string;
                reason: string;
                createdBy: string | null;
                /** Format: date-time */
                since: string;
                /** Format: date-time */
                until: string | null;
                userName: string;
                studentName: string;
              })[];
            nextCursor: string | null;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** Hide a child from a member of staff, whatever else grants access (Deputy DSL or higher) */
  postBlocks: {
    requestBody: {
      content: {
        "application/json": {
          userId: string;
          studentId: string;
          reason: string;
        };
      };
    };
    responses: {
      /** @description Default Response */
      201: {
        content: {
          "application/json": {
            id: string;
            userId: string;
            studentId: string;
            reason: string;
            createdBy: string | null;
            /** Format: date-time */
            since: string;
            /** Format: date-time */
            until: string | null;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Lift a block (it stays in the history) */
  deleteBlocksById: {
    parameters: {
      query?: {
        reason?: string;
      };
      path: {
        id: string;
      };
    };
    responses: {
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Why a user can or cannot see a student, or read an incident, with every path and denial
   * @description Give `studentId` (with `asOf` if wanted) or `incidentId`. Anyone may explain their own access; explaining someone else's takes `reports.access_audit` (Admin). The caller must be able to see the student, or read the incident; children the caller cannot see are redacted. An incident's explanation comes from the incident policy itself (ways in: reporter, assignee, assigned group, a child seen with the clearance the category needs; denials: exclusion, being an allegation's subject, blocks, missing clearance); a two-factor step-up belongs to a session and is not part of it.
   */
  getAccessExplain: {
    parameters: {
      query: {
        userId: string;
        studentId?: string;
        incidentId?: string;
        /** @description Answer as of this time (ISO 8601); omitted: now */
        asOf?: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": ({
            allowed: boolean;
            asOf: string | null;
            user: {
              id: string;
              name: string;
            };
            student: {
              id: string;
              name: string;
            };
            paths: ({
                /** @enum {string} */
                kind: "group_to_student_group" | "group_to_student" | "user_to_student";
                summary: string;
                linkId: string;
                userGroup: {
                  id: string;
                  name: string;
                } | null;
                studentGroup: {
                  id: string;
                  name: string;
                  kind: string;
                  rule: unknown;
                } | null;
                since: {
                  membership: string | null;
                  link: string;
                  inStudentGroup: string | null;
                };
              })[];
            denials: ({
                /** @enum {string} */
                kind: "block" | "no_role" | "user_inactive" | "student_inactive";
                summary: string;
                block?: {
                  id: string;
                  reason: string;
                  by: {
                    id: string;
                    name: string;
                  } | null;
                  /** Format: date-time */
                  since: string;
                };
              })[];
          }) | ({
            allowed: boolean;
            asOf: null;
            user: {
              id: string;
              name: string;
            };
            incident: {
              id: string;
              /** @enum {string} */
              sensitivity: "standard" | "child_protection" | "allegation";
            };
            paths: ({
                /** @enum {string} */
                kind: "reporter" | "assignee" | "assigned_group" | "student";
                summary: string;
                userGroup: {
                  id: string;
                  name: string;
                } | null;
                student: {
                  id: string;
                  name: string;
                } | null;
                via: ({
                    /** @enum {string} */
                    kind: "group_to_student_group" | "group_to_student" | "user_to_student";
                    summary: string;
                    linkId: string;
                    userGroup: {
                      id: string;
                      name: string;
                    } | null;
                    studentGroup: {
                      id: string;
                      name: string;
                      kind: string;
                      rule: unknown;
                    } | null;
                    since: {
                      membership: string | null;
                      link: string;
                      inStudentGroup: string | null;
                    };
                  })[];
              })[];
            denials: ({
                /** @enum {string} */
                kind: "user_inactive" | "no_role" | "excluded" | "allegation_subject" | "blocked" | "no_clearance";
                summary: string;
              })[];
          });
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** Who can see this child, each with their paths, by name (Admin) */
  getStudentsByIdAccess: {
    parameters: {
      query?: {
        limit?: number;
        cursor?: string;
        /** @description Answer as of this time (ISO 8601); omitted: now */
        asOf?: string;
      };
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            asOf: string | null;
            items: ({
                user: {
                  id: string;
                  name: string;
                  email: string;
                };
                paths: ({
                    /** @enum {string} */
                    kind: "group_to_student_group" | "group_to_student" | "user_to_student";
                    summary: string;
                    linkId: string;
                    userGroup: {
                      id: string;
                      name: string;
                    } | null;
                    studentGroup: {
                      id: string;
                      name: string;
                      kind: string;
                      rule: unknown;
                    } | null;
                    since: {
                      membership: string | null;
                      link: string;
                      inStudentGroup: string | null;
                    };
                  })[];
              })[];
            nextCursor: string | null;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Roles per scope, clearances, access paths with counts and blocks, and permission sets on user groups, each with its source
   * @description Anyone may read their own; reading someone else's takes `reports.access_audit` (Admin).
   */
  getUsersByIdEffectivePermissions: {
    parameters: {
      query?: {
        /** @description Answer as of this time (ISO 8601); omitted: now */
        asOf?: string;
      };
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            asOf: string | null;
            user: {
              id: string;
              name: string;
              email: string;
              status: string;
            };
            roles: ({
                grantId: string | null;
                /** @enum {string} */
                role: "owner" | "dsl" | "deputy_dsl" | "admin" | "viewer";
                scope: {
                  /** @enum {string} */
                  type: "organisation" | "school_group" | "school";
                  id: string;
                  name: string;
                };
                source: OneOf<[{
                  /** @enum {string} */
                  type: "direct";
                }, {
                  /** @enum {string} */
                  type: "user_group";
                  userGroupId: string | null;
                  userGroupName: string | null;
                }]>;
                /** Format: date-time */
                since: string;
              })[];
            clearances: ({
                /** @enum {string} */
                clearance: "child_protection" | "allegations";
                source: {
                  /** @enum {string} */
                  type: "user_group";
                  userGroupId: string | null;
                  userGroupName: string | null;
                };
                /** Format: date-time */
                since: string;
              })[];
            memberships: ({
                userGroupId: string | null;
                name: string | null;
                /** Format: date-time */
                since: string;
              })[];
            paths: ({
                /** @enum {string} */
                kind: "group_to_student_group" | "group_to_student" | "user_to_student";
                linkId: string;
                userGroup: {
                  id: string;
                  name: string;
                } | null;
                studentGroup: {
                  id: string;
                  name: string;
                  kind: string;
                  rule: unknown;
                } | null;
                studentId: string | null;
                student: {
                  id: string;
                  name: string;
                } | null;
                redacted: boolean;
                students: number;
                /** Format: date-time */
                since: string;
              })[];
            blocks: ({
                id: string;
                student: {
                  id: string;
                  name: string;
                };
                reason: string;
                /** Format: date-time */
                since: string;
                by: string | null;
              })[];
            hiddenBlocks: number;
            visibleStudents: number;
            groupPermissions: ({
                userGroup: {
                  id: string;
                  name: string;
                };
                set: {
                  /** @description "owners", "members", "everyone", or a custom set's id */
                  id: string;
                  /** @enum {string} */
                  kind: "owners" | "members" | "everyone" | "custom";
                  name: string;
                };
                permissions: ("view" | "view_members" | "edit_details" | "manage_members" | "delete")[];
                via: OneOf<[{
                  /** @enum {string} */
                  type: "owner";
                }, {
                  /** @enum {string} */
                  type: "member";
                }, {
                  /** @enum {string} */
                  type: "everyone";
                }, {
                  /** @enum {string} */
                  type: "direct";
                }, {
                  /** @enum {string} */
                  type: "user_group";
                  userGroupId: string | null;
                  userGroupName: string | null;
                }]>;
              })[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * How many more people would see child-protection or allegation records after a change
   * @description Runs the change itself (an assignment, an edit of a concern such as lowering its sensitivity, removing a child or moving it, a link, new members, a whole user-group batch, a role grant, lifting a block, a direct link) inside a transaction that is always rolled back, and counts with the record policy who would newly read child-protection or allegation records. Nothing is changed. Counts only records the caller can read; a change the caller may not make answers the error the change itself would.
   */
  postAccessWideningPreview: {
    requestBody: {
      content: {
        "application/json": ({
          /** @enum {string} */
          kind: "incident_assignee";
          incidentId: string;
          assignee: {
            /** @enum {string} */
            type: "user" | "user_group";
            id: string;
          };
        }) | {
          /** @enum {string} */
          kind: "student_link";
          userGroupId: string;
          studentGroupId?: string;
          studentId?: string;
          confirm?: boolean;
          rationale?: string;
        } | {
          /** @enum {string} */
          kind: "group_members";
          userGroupId: string;
          userIds: string[];
        } | ({
          /** @enum {string} */
          kind: "user_group_batch";
          userGroupId: string;
          operations: ({
              /** @enum {string} */
              op: "addMembers";
              userIds: string[];
            } | {
              /** @enum {string} */
              op: "removeMembers";
              userIds: string[];
            } | {
              /** @enum {string} */
              op: "addOwners";
              userIds: string[];
            } | {
              /** @enum {string} */
              op: "removeOwners";
              userIds: string[];
            } | {
              /** @enum {string} */
              op: "addStudentLink";
              studentGroupId?: string;
              studentId?: string;
              confirm?: boolean;
              rationale?: string;
            } | {
              /** @enum {string} */
              op: "removeStudentLink";
              linkId: string;
            } | ({
              /** @enum {string} */
              op: "setClearances";
              clearances: ("child_protection" | "allegations")[];
            }) | ({
              /** @enum {string} */
              op: "createPermissionSet";
              name: string;
              permissions: ("view" | "view_members" | "edit_details" | "manage_members" | "delete")[];
              assignees: ({
                  /** @enum {string} */
                  type: "user" | "user_group";
                  id: string;
                })[];
            }) | ({
              /** @enum {string} */
              op: "updatePermissionSet";
              setId: string;
              name?: string;
              permissions?: ("view" | "view_members" | "edit_details" | "manage_members" | "delete")[];
              assignees?: ({
                  /** @enum {string} */
                  type: "user" | "user_group";
                  id: string;
                })[];
            }) | {
              /** @enum {string} */
              op: "deletePermissionSet";
              setId: string;
            } | {
              /** @enum {string} */
              op: "update";
              name?: string;
              description?: string;
              rationale?: string;
            })[];
        }) | ({
          /** @enum {string} */
          kind: "incident_update";
          incidentId: string;
          patch: {
            revision: number;
            studentIds?: string[];
            schoolId?: string;
            categoryId?: string;
            /** Format: date-time */
            occurredAt?: string;
            location?: string | null;
            description?: string;
            /** @enum {string} */
            status?: "open" | "in_progress" | "closed";
            subjectUserId?: string | null;
          };
        }) | ({
          /** @enum {string} */
          kind: "role_grant";
          subject: {
            /** @enum {string} */
            type: "user" | "user_group";
            id: string;
          };
          /** @enum {string} */
          role: "owner" | "dsl" | "deputy_dsl" | "admin" | "viewer";
          scope: {
            /** @enum {string} */
            type: "organisation" | "school_group" | "school";
            id: string;
          };
          reason?: string;
        }) | {
          /** @enum {string} */
          kind: "block_removal";
          blockId: string;
        } | {
          /** @enum {string} */
          kind: "direct_link";
          userId: string;
          studentId: string;
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            sensitiveRecords: number;
            newViewers: number;
            partial: boolean;
            examples: {
                id: string;
                name: string;
              }[];
            warnings: ({
                /** @enum {string} */
                code: "assignee_cannot_read";
                assignee: {
                  /** @enum {string} */
                  type: "user" | "user_group";
                  id: string;
                };
                detail: string;
                members?: number;
                cannotRead?: number;
                partial?: boolean;
              })[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Incident categories: the organisation's and its schools' */
  getCategories: {
    parameters: {
      query?: {
        schoolId?: string;
        includeRetired?: "true" | "false";
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: ({
                id: string;
                schoolId: string | null;
                name: string;
                /** @enum {string} */
                sensitivity: "standard" | "child_protection" | "allegation";
                retired: boolean;
              })[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** Add a category (Admin), with its sensitivity */
  postCategories: {
    requestBody: {
      content: {
        "application/json": {
          schoolId?: string;
          name: string;
          /** @enum {string} */
          sensitivity: "standard" | "child_protection" | "allegation";
        };
      };
    };
    responses: {
      /** @description Default Response */
      201: {
        content: {
          "application/json": {
            id: string;
            schoolId: string | null;
            name: string;
            /** @enum {string} */
            sensitivity: "standard" | "child_protection" | "allegation";
            retired: boolean;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Rename a category, or retire it (its records keep it; new concerns cannot use it) */
  patchCategoriesById: {
    parameters: {
      path: {
        id: string;
      };
    };
    requestBody: {
      content: {
        "application/json": {
          name?: string;
          retired?: boolean;
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            schoolId: string | null;
            name: string;
            /** @enum {string} */
            sensitivity: "standard" | "child_protection" | "allegation";
            retired: boolean;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * The incidents the caller may see, newest first (spec section 4)
   * @description `q` searches the account and the location. Children the caller cannot see are redacted.
   */
  getIncidents: {
    parameters: {
      query?: {
        limit?: number;
        cursor?: string;
        q?: string;
        studentId?: string;
        schoolId?: string;
        categoryId?: string;
        status?: "open" | "in_progress" | "closed";
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: ({
                id: string;
                schoolId: string;
                category: {
                  id: string;
                  schoolId: string | null;
                  name: string;
                  /** @enum {string} */
                  sensitivity: "standard" | "child_protection" | "allegation";
                };
                /** Format: date-time */
                occurredAt: string;
                location: string | null;
                description: string;
                /** @enum {string} */
                status: "open" | "in_progress" | "closed";
                reporter: {
                  id: string;
                  name: string;
                };
                subjectUserId: string | null;
                students: ({
                    /** @enum {boolean} */
                    redacted: false;
                    id: string;
                    name: string;
                  } | {
                    /** @enum {boolean} */
                    redacted: true;
                  })[];
                unlistedChild: ({
                  name: string;
                  note: string | null;
                }) | null;
                assignees: ({
                    /** @enum {string} */
                    type: "user" | "user_group";
                    id: string;
                    name: string;
                  })[];
                revision: number;
                /** Format: date-time */
                createdAt: string;
                /** Format: date-time */
                updatedAt: string;
                abilities: {
                  update: boolean;
                  reclassify: boolean;
                  moveTo: string[];
                  delete: boolean;
                  manageExclusions: boolean;
                  assign: boolean;
                  addActions: boolean;
                  manageDocuments: boolean;
                };
              })[];
            nextCursor: string | null;
            /** @description How many more records match that this session may read only after a two-factor step-up (POST /auth/step-up); 0 when none or once passed */
            stepUpNeeded: number;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** Log a concern about one or more students */
  postIncidents: {
    requestBody: {
      content: {
        "application/json": {
          schoolId: string;
          /** @default [] */
          studentIds?: string[];
          unlistedChild?: {
            name: string;
            note?: string;
          };
          categoryId: string;
          /** Format: date-time */
          occurredAt: string;
          location?: string;
          description: string;
          subjectUserId?: string;
          assignees?: ({
              /** @enum {string} */
              type: "user" | "user_group";
              id: string;
            })[];
        };
      };
    };
    responses: {
      /** @description Default Response */
      201: {
        content: {
          "application/json": {
            id: string;
            schoolId: string;
            category: {
              id: string;
              schoolId: string | null;
              name: string;
              /** @enum {string} */
              sensitivity: "standard" | "child_protection" | "allegation";
            };
            /** Format: date-time */
            occurredAt: string;
            location: string | null;
            description: string;
            /** @enum {string} */
            status: "open" | "in_progress" | "closed";
            reporter: {
              id: string;
              name: string;
            };
            subjectUserId: string | null;
            students: ({
                /** @enum {boolean} */
                redacted: false;
                id: string;
                name: string;
              } | {
                /** @enum {boolean} */
                redacted: true;
              })[];
            unlistedChild: ({
              name: string;
              note: string | null;
            }) | null;
            assignees: ({
                /** @enum {string} */
                type: "user" | "user_group";
                id: string;
                name: string;
              })[];
            revision: number;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
            abilities: {
              update: boolean;
              reclassify: boolean;
              moveTo: string[];
              delete: boolean;
              manageExclusions: boolean;
              assign: boolean;
              addActions: boolean;
              manageDocuments: boolean;
            };
            receipt: {
              /** Format: date-time */
              savedAt: string;
              /** @enum {string} */
              delivery: "immediate" | "digest" | "none";
            };
            warnings: ({
                /** @enum {string} */
                code: "assignee_cannot_read";
                assignee: {
                  /** @enum {string} */
                  type: "user" | "user_group";
                  id: string;
                };
                detail: string;
                members?: number;
                cannotRead?: number;
                partial?: boolean;
              })[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** How many incidents the caller may see, with the list’s filters */
  getIncidentsCount: {
    parameters: {
      query?: {
        q?: string;
        studentId?: string;
        schoolId?: string;
        categoryId?: string;
        status?: "open" | "in_progress" | "closed";
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            count: number;
            /** @description How many more records match that this session may read only after a two-factor step-up (POST /auth/step-up); 0 when none or once passed */
            stepUpNeeded: number;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * CSV of the incidents the caller may see, with the list’s filters (the export is logged)
   * @description The header `X-Haven-Step-Up-Needed` says how many more records match that this session may read only after a two-factor step-up: they are not in the file.
   */
  getIncidentsExport: {
    parameters: {
      query?: {
        q?: string;
        studentId?: string;
        schoolId?: string;
        categoryId?: string;
        status?: "open" | "in_progress" | "closed";
      };
    };
    responses: {
      /** @description The incidents, children redacted as on screen */
      200: {
        content: {
          "text/csv": string;
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** One incident (the read is written to the access log) */
  getIncidentsById: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            schoolId: string;
            category: {
              id: string;
              schoolId: string | null;
              name: string;
              /** @enum {string} */
              sensitivity: "standard" | "child_protection" | "allegation";
            };
            /** Format: date-time */
            occurredAt: string;
            location: string | null;
            description: string;
            /** @enum {string} */
            status: "open" | "in_progress" | "closed";
            reporter: {
              id: string;
              name: string;
            };
            subjectUserId: string | null;
            students: ({
                /** @enum {boolean} */
                redacted: false;
                id: string;
                name: string;
              } | {
                /** @enum {boolean} */
                redacted: true;
              })[];
            unlistedChild: ({
              name: string;
              note: string | null;
            }) | null;
            assignees: ({
                /** @enum {string} */
                type: "user" | "user_group";
                id: string;
                name: string;
              })[];
            revision: number;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
            abilities: {
              update: boolean;
              reclassify: boolean;
              moveTo: string[];
              delete: boolean;
              manageExclusions: boolean;
              assign: boolean;
              addActions: boolean;
              manageDocuments: boolean;
            };
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** Soft-delete an incident (Deputy DSL) */
  deleteIncidentsById: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Edit an incident; the previous version is kept as a revision
   * @description Answers the incident as the caller now reads it, or `{ id, revision, withheld: true }` when the edit took it out of their reach (for instance a concern handed over as an allegation they are not cleared to read): the edit was saved.
   */
  patchIncidentsById: {
    parameters: {
      path: {
        id: string;
      };
    };
    requestBody: {
      content: {
        "application/json": {
          revision: number;
          studentIds?: string[];
          schoolId?: string;
          categoryId?: string;
          /** Format: date-time */
          occurredAt?: string;
          location?: string | null;
          description?: string;
          /** @enum {string} */
          status?: "open" | "in_progress" | "closed";
          subjectUserId?: string | null;
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": ({
            id: string;
            schoolId: string;
            category: {
              id: string;
              schoolId: string | null;
              name: string;
              /** @enum {string} */
              sensitivity: "standard" | "child_protection" | "allegation";
            };
            /** Format: date-time */
            occurredAt: string;
            location: string | null;
            description: string;
            /** @enum {string} */
            status: "open" | "in_progress" | "closed";
            reporter: {
              id: string;
              name: string;
            };
            subjectUserId: string | null;
            students: ({
                /** @enum {boolean} */
                redacted: false;
                id: string;
                name: string;
              } | {
                /** @enum {boolean} */
                redacted: true;
              })[];
            unlistedChild: ({
              name: string;
              note: string | null;
            }) | null;
            assignees: ({
                /** @enum {string} */
                type: "user" | "user_group";
                id: string;
                name: string;
              })[];
            revision: number;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
            abilities: {
              update: boolean;
              reclassify: boolean;
              moveTo: string[];
              delete: boolean;
              manageExclusions: boolean;
              assign: boolean;
              addActions: boolean;
              manageDocuments: boolean;
            };
          }) | {
            id: string;
            revision: number;
            /** @enum {boolean} */
            withheld: true;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Earlier versions of an incident, newest first
   * @description Each version is shown only as the caller could read a record with that version’s category, school and children; otherwise it is `withheld`, with no content. Children the caller cannot see are redacted.
   */
  getIncidentsByIdRevisions: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: (({
                revision: number;
                /** Format: date-time */
                replacedAt: string;
                replacedBy: {
                  id: string;
                  name: string;
                } | null;
                /** @enum {boolean} */
                withheld: false;
                incident: {
                  schoolId: string;
                  categoryId: string;
                  category: {
                    id: string;
                    schoolId: string | null;
                    name: string;
                    /** @enum {string} */
                    sensitivity: "standard" | "child_protection" | "allegation";
                  };
                  /** Format: date-time */
                  occurredAt: string;
                  location: string | null;
                  description: string;
                  /** @enum {string} */
                  status: "open" | "in_progress" | "closed";
                  subjectUserId: string | null;
                  students: ({
                      /** @enum {boolean} */
                      redacted: false;
                      id: string;
                      name: string;
                    } | {
                      /** @enum {boolean} */
                      redacted: true;
                    })[];
                  unlistedChild: ({
                    name: string;
                    note: string | null;
                  }) | null;
                  /** Format: date-time */
                  updatedAt: string;
                };
              }) | {
                revision: number;
                /** Format: date-time */
                replacedAt: string;
                /** @enum {boolean} */
                withheld: true;
              })[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** Who is excluded from an incident */
  getIncidentsByIdExclusions: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: {
                id: string;
                name: string;
              }[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** Replace the exclusion list (Deputy DSL): those named never see the incident */
  putIncidentsByIdExclusions: {
    parameters: {
      path: {
        id: string;
      };
    };
    requestBody: {
      content: {
        "application/json": {
          userIds: string[];
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            userIds: string[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Assign the incident to a user or a user group (Deputy DSL)
   * @description Refused with 409 `assignee_blocked` for a person blocked from a child on the record (nothing changes). Answers the incident with `warnings`: `assignee_cannot_read` when the person, or some members of the group (`cannotRead` of `members`), cannot read it even so (an exclusion, being an allegation's subject, no role). `POST /access/widening-preview` with `kind: "incident_assignee"` gives the same warnings before saving.
   */
  postIncidentsByIdAssignees: {
    parameters: {
      path: {
        id: string;
      };
    };
    requestBody: {
      content: {
        "application/json": {
          /** @enum {string} */
          type: "user" | "user_group";
          id: string;
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            schoolId: string;
            category: {
              id: string;
              schoolId: string | null;
              name: string;
              /** @enum {string} */
              sensitivity: "standard" | "child_protection" | "allegation";
            };
            /** Format: date-time */
            occurredAt: string;
            location: string | null;
            description: string;
            /** @enum {string} */
            status: "open" | "in_progress" | "closed";
            reporter: {
              id: string;
              name: string;
            };
            subjectUserId: string | null;
            students: ({
                /** @enum {boolean} */
                redacted: false;
                id: string;
                name: string;
              } | {
                /** @enum {boolean} */
                redacted: true;
              })[];
            unlistedChild: ({
              name: string;
              note: string | null;
            }) | null;
            assignees: ({
                /** @enum {string} */
                type: "user" | "user_group";
                id: string;
                name: string;
              })[];
            revision: number;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
            abilities: {
              update: boolean;
              reclassify: boolean;
              moveTo: string[];
              delete: boolean;
              manageExclusions: boolean;
              assign: boolean;
              addActions: boolean;
              manageDocuments: boolean;
            };
            warnings: ({
                /** @enum {string} */
                code: "assignee_cannot_read";
                assignee: {
                  /** @enum {string} */
                  type: "user" | "user_group";
                  id: string;
                };
                detail: string;
                members?: number;
                cannotRead?: number;
                partial?: boolean;
              })[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** A child's chronology: the incidents and actions the caller may see, newest first */
  getStudentsByIdChronology: {
    parameters: {
      query?: {
        limit?: number;
        cursor?: string;
      };
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: ({
                /** @enum {string} */
                type: "incident" | "action";
                at: string;
                id: string;
                incidentId: string;
                title: string;
                detail: string;
              })[];
            nextCursor: string | null;
            /** @description How many more records match that this session may read only after a two-factor step-up (POST /auth/step-up); 0 when none or once passed */
            stepUpNeeded: number;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** An incident's actions */
  getIncidentsByIdActions: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: ({
                id: string;
                incidentId: string;
                title: string;
                /** Format: date-time */
                dueAt: string | null;
                overdue: boolean;
                assignee: {
                  /** @enum {string} */
                  type: "user" | "user_group";
                  id: string;
                  /** @description The person's or group's name (an incident's list) */
                  name?: string;
                };
                /** Format: date-time */
                completedAt: string | null;
                completedBy: string | null;
                /** Format: date-time */
                createdAt: string;
                abilities: {
                  complete: boolean;
                  update: boolean;
                  delete: boolean;
                };
              })[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Add an action to an incident (Deputy DSL), assigned to a user or a group
   * @description An assignee who is a person blocked from a child on the record is refused with 409 `assignee_blocked` (nothing changes). Otherwise the action is saved, and `warnings` holds `assignee_cannot_read` when the person, or some members of the group (`cannotRead` of `members`), cannot read its incident: they would not see the action. `POST /incidents/:id/actions/assignee-check` gives the same answer before saving.
   */
  postIncidentsByIdActions: {
    parameters: {
      path: {
        id: string;
      };
    };
    requestBody: {
      content: {
        "application/json": {
          title: string;
          /** Format: date-time */
          dueAt?: string;
          assignee: {
            /** @enum {string} */
            type: "user" | "user_group";
            id: string;
          };
        };
      };
    };
    responses: {
      /** @description Default Response */
      201: {
        content: {
          "application/json": {
            id: string;
            incidentId: string;
            title: string;
            /** Format: date-time */
            dueAt: string | null;
            overdue: boolean;
            assignee: {
              /** @enum {string} */
              type: "user" | "user_group";
              id: string;
              /** @description The person's or group's name (an incident's list) */
              name?: string;
            };
            /** Format: date-time */
            completedAt: string | null;
            completedBy: string | null;
            /** Format: date-time */
            createdAt: string;
            abilities: {
              complete: boolean;
              update: boolean;
              delete: boolean;
            };
            warnings: ({
                /** @enum {string} */
                code: "assignee_cannot_read";
                assignee: {
                  /** @enum {string} */
                  type: "user" | "user_group";
                  id: string;
                };
                detail: string;
                members?: number;
                cannotRead?: number;
                partial?: boolean;
              })[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Before saving an action: would its assignee be refused, or not read the record?
   * @description Answers what `POST /incidents/:id/actions` or `PATCH /actions/:id` with this assignee would: 409 `assignee_blocked` for a person blocked from a child on the record, else `{ warnings }` (see there). Nothing is changed.
   */
  postIncidentsByIdActionsAssigneeCheck: {
    parameters: {
      path: {
        id: string;
      };
    };
    requestBody: {
      content: {
        "application/json": {
          assignee: {
            /** @enum {string} */
            type: "user" | "user_group";
            id: string;
          };
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            warnings: ({
                /** @enum {string} */
                code: "assignee_cannot_read";
                assignee: {
                  /** @enum {string} */
                  type: "user" | "user_group";
                  id: string;
                };
                detail: string;
                members?: number;
                cannotRead?: number;
                partial?: boolean;
              })[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Delete an action (Deputy DSL; kept, marked deleted) */
  deleteActionsById: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Edit an action (Deputy DSL)
   * @description An assignee who is a person blocked from a child on the record is refused with 409 `assignee_blocked` (nothing changes). Otherwise the action is saved, and `warnings` holds `assignee_cannot_read` when the person, or some members of the group (`cannotRead` of `members`), cannot read its incident: they would not see the action. `POST /incidents/:id/actions/assignee-check` gives the same answer before saving.
   */
  patchActionsById: {
    parameters: {
      path: {
        id: string;
      };
    };
    requestBody: {
      content: {
        "application/json": {
          title?: string;
          dueAt?: string | null;
          assignee?: {
            /** @enum {string} */
            type: "user" | "user_group";
            id: string;
          };
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            incidentId: string;
            title: string;
            /** Format: date-time */
            dueAt: string | null;
            overdue: boolean;
            assignee: {
              /** @enum {string} */
              type: "user" | "user_group";
              id: string;
              /** @description The person's or group's name (an incident's list) */
              name?: string;
            };
            /** Format: date-time */
            completedAt: string | null;
            completedBy: string | null;
            /** Format: date-time */
            createdAt: string;
            abilities: {
              complete: boolean;
              update: boolean;
              delete: boolean;
            };
            warnings: ({
                /** @enum {string} */
                code: "assignee_cannot_read";
                assignee: {
                  /** @enum {string} */
                  type: "user" | "user_group";
                  id: string;
                };
                detail: string;
                members?: number;
                cannotRead?: number;
                partial?: boolean;
              })[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Complete an action assigned to you or to a group you are in */
  postActionsByIdComplete: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            incidentId: string;
            title: string;
            /** Format: date-time */
            dueAt: string | null;
            overdue: boolean;
            assignee: {
              /** @enum {string} */
              type: "user" | "user_group";
              id: string;
              /** @description The person's or group's name (an incident's list) */
              name?: string;
            };
            /** Format: date-time */
            completedAt: string | null;
            completedBy: string | null;
            /** Format: date-time */
            createdAt: string;
            abilities: {
              complete: boolean;
              update: boolean;
              delete: boolean;
            };
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** My open actions, overdue first */
  getMeActions: {
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: ({
                id: string;
                incidentId: string;
                title: string;
                /** Format: date-time */
                dueAt: string | null;
                overdue: boolean;
                assignee: {
                  /** @enum {string} */
                  type: "user" | "user_group";
                  id: string;
                  /** @description The person's or group's name (an incident's list) */
                  name?: string;
                };
                /** Format: date-time */
                completedAt: string | null;
                completedBy: string | null;
                /** Format: date-time */
                createdAt: string;
                abilities: {
                  complete: boolean;
                  update: boolean;
                  delete: boolean;
                };
              })[];
            /** @description How many more open actions are mine that this session may see only after a two-factor step-up (POST /auth/step-up) */
            stepUpNeeded: number;
          };
        };
      };
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** My alerts, newest first (dismissed ones are left out) */
  getAlerts: {
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: ({
                id: string;
                /** @enum {string} */
                kind: "incident_assigned" | "action_assigned" | "action_due" | "incident_logged" | "security" | "access_review" | "transfer_overdue";
                incidentId: string | null;
                actionId: string | null;
                title: string | null;
                message: string | null;
                stepUpNeeded: boolean;
                /** Format: date-time */
                createdAt: string;
                read: boolean;
              })[];
          };
        };
      };
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** Mark one of my alerts read */
  postAlertsByIdRead: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Dismiss one of my alerts */
  postAlertsByIdDismiss: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** The documents on an incident */
  getIncidentsByIdDocuments: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: ({
                id: string;
                filename: string;
                contentType: string;
                size: number;
                sha256: string;
                uploadedBy: string | null;
                /** Format: date-time */
                createdAt: string;
                abilities: {
                  delete: boolean;
                };
              })[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Upload a document to an incident (Deputy DSL)
   * @description The body is the file itself, with its Content-Type; `?filename=` names it. The type is judged from the bytes (PDF, images, Office documents, plain text) and the size against HAVEN_MAX_UPLOAD_BYTES.
   */
  postIncidentsByIdDocuments: {
    parameters: {
      query: {
        filename: string;
      };
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      201: {
        content: {
          "application/json": {
            id: string;
            filename: string;
            contentType: string;
            size: number;
            sha256: string;
            uploadedBy: string | null;
            /** Format: date-time */
            createdAt: string;
            abilities: {
              delete: boolean;
            };
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** The documents on a student's file */
  getStudentsByIdDocuments: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: ({
                id: string;
                filename: string;
                contentType: string;
                size: number;
                sha256: string;
                uploadedBy: string | null;
                /** Format: date-time */
                createdAt: string;
                abilities: {
                  delete: boolean;
                };
              })[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Upload a document to a student's file (Deputy DSL)
   * @description The body is the file itself, with its Content-Type; `?filename=` names it. The type is judged from the bytes (PDF, images, Office documents, plain text) and the size against HAVEN_MAX_UPLOAD_BYTES.
   */
  postStudentsByIdDocuments: {
    parameters: {
      query: {
        filename: string;
      };
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      201: {
        content: {
          "application/json": {
            id: string;
            filename: string;
            contentType: string;
            size: number;
            sha256: string;
            uploadedBy: string | null;
            /** Format: date-time */
            createdAt: string;
            abilities: {
              delete: boolean;
            };
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Download a document (checked against its SHA-256; the read is logged) */
  getDocumentsById: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description The document, as an attachment of its type */
      200: {
        content: {
          "*/*": unknown;
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** Delete a document (Deputy DSL; kept, marked deleted) */
  deleteDocumentsById: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Who is told of a category's new concerns, and how (Admin) */
  getCategoriesByIdNotifications: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            rules: ({
                recipient: {
                  /** @enum {string} */
                  type: "user" | "user_group";
                  id: string;
                  name: string;
                };
                /** @enum {string} */
                channel: "alert" | "immediate_email" | "digest_email";
              })[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Replace a category's notification rules (Admin)
   * @description Each rule names a user or a user group and a channel: an alert in the app, an immediate email, or the school's daily digest email. Whoever a rule names is told only of records they may read when the notification is sent.
   */
  putCategoriesByIdNotifications: {
    parameters: {
      path: {
        id: string;
      };
    };
    requestBody: {
      content: {
        "application/json": {
          rules: ({
              recipient: {
                /** @enum {string} */
                type: "user" | "user_group";
                id: string;
              };
              /** @enum {string} */
              channel: "alert" | "immediate_email" | "digest_email";
            })[];
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            rules: ({
                recipient: {
                  /** @enum {string} */
                  type: "user" | "user_group";
                  id: string;
                  name: string;
                };
                /** @enum {string} */
                channel: "alert" | "immediate_email" | "digest_email";
              })[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Emails Haven sent, is sending or could not send (Admin, for their schools) */
  getOutbox: {
    parameters: {
      query?: {
        limit?: number;
        cursor?: string;
        status?: "pending" | "sending" | "sent" | "failed" | "withdrawn";
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: ({
                id: string;
                kind: string;
                schoolId: string | null;
                to: {
                  address: string;
                  name: string | null;
                };
                /** @enum {string} */
                status: "pending" | "sending" | "sent" | "failed" | "withdrawn";
                attempts: number;
                lastError: string | null;
                subject: string | null;
                /** Format: date-time */
                createdAt: string;
                sentAt: string | null;
                nextAttemptAt: string | null;
              })[];
            nextCursor: string | null;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** Send a failed email again (Admin) */
  postOutboxByIdRetry: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Children the caller may report a concern about, by family name
   * @description Any child on roll at a school where the caller holds a role, except those they are blocked from: names, year group and school only. Reporting about a child does not make the child visible. `q` matches every word against the start of the names; `schoolId` (403 where the caller holds no role) narrows to one school. Each search is written to the access log.
   */
  getReportableStudents: {
    parameters: {
      query?: {
        limit?: number;
        cursor?: string;
        q?: string;
        schoolId?: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: ({
                id: string;
                givenName: string;
                familyName: string;
                yearGroup: number | null;
                schoolId: string;
              })[];
            nextCursor: string | null;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Staff an allegation at the school may name (names only)
   * @description Live users holding a role at the school (or at a scope covering it), the caller left out, by name; at most 50, `q` narrows by any part of the name. 403 where the caller holds no role at the school.
   */
  getReportableStaff: {
    parameters: {
      query: {
        q?: string;
        schoolId: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: {
                id: string;
                name: string;
              }[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * The concerns I reported, newest first (no two-factor check needed)
   * @description No account of what happened: open a report (`GET /incidents/:id`) to read it, as its reporter.
   */
  getMeReports: {
    parameters: {
      query?: {
        limit?: number;
        cursor?: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: ({
                id: string;
                categoryName: string;
                /** @enum {string} */
                sensitivity: "standard" | "child_protection" | "allegation";
                /** Format: date-time */
                createdAt: string;
                /** @enum {string} */
                status: "open" | "in_progress" | "closed";
                studentNames: string[];
              })[];
            nextCursor: string | null;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** Access reviews the caller runs, or has items in (groups they own or administer), newest first, with progress */
  getAccessReviews: {
    parameters: {
      query?: {
        limit?: number;
        cursor?: string;
        status?: "open" | "closed";
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: ({
                id: string;
                title: string;
                scope: {
                  /** @enum {string} */
                  type: "organisation" | "school_group" | "school";
                  id: string;
                  name: string;
                };
                /** Format: date-time */
                dueAt: string;
                /** @enum {string} */
                status: "open" | "closed";
                /** Format: date-time */
                createdAt: string;
                /** Format: date-time */
                closedAt: string | null;
                createdBy: {
                  id: string;
                  name: string;
                } | null;
                progress: {
                  decided: number;
                  total: number;
                };
                toDecide: number;
                abilities: {
                  close: boolean;
                };
              })[];
            nextCursor: string | null;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Start a termly access review of the user groups homed in a scope (Admin there)
   * @description One item per live user group homed in the scope (the organisation: every group; a school group: groups homed there or at its schools; a school: groups homed there), each reviewed by its owners or an Admin at its home.
   */
  postAccessReviews: {
    requestBody: {
      content: {
        "application/json": {
          scope: {
            /** @enum {string} */
            type: "organisation" | "school_group" | "school";
            id: string;
          };
          /** Format: date-time */
          dueAt: string;
          title?: string;
        };
      };
    };
    responses: {
      /** @description Default Response */
      201: {
        content: {
          "application/json": {
            id: string;
            title: string;
            scope: {
              /** @enum {string} */
              type: "organisation" | "school_group" | "school";
              id: string;
              name: string;
            };
            /** Format: date-time */
            dueAt: string;
            /** @enum {string} */
            status: "open" | "closed";
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            closedAt: string | null;
            createdBy: {
              id: string;
              name: string;
            } | null;
            progress: {
              decided: number;
              total: number;
            };
            toDecide: number;
            abilities: {
              close: boolean;
            };
            closedBy: {
              id: string;
              name: string;
            } | null;
            summary: string | null;
            auditRuns: {
              start: string | null;
              close: string | null;
            };
            items: ({
                id: string;
                userGroup: {
                  id: string;
                  name: string;
                  deleted: boolean;
                  homeScope: {
                    /** @enum {string} */
                    type: "organisation" | "school_group" | "school";
                    id: string;
                    name: string;
                  };
                };
                reviewers: {
                    id: string;
                    name: string;
                  }[];
                /** Format: date-time */
                since: string;
                /** @enum {string} */
                status: "undecided" | "confirmed" | "changed" | "not_decided";
                decision: ({
                  /** @enum {string} */
                  outcome: "confirmed" | "changed";
                  note: string;
                  /** Format: date-time */
                  decidedAt: string;
                  decidedBy: {
                    id: string;
                    name: string;
                  };
                }) | null;
                abilities: {
                  decide: boolean;
                };
              })[];
            decisions: ({
                /** @enum {string} */
                outcome: "confirmed" | "changed";
                note: string;
                /** Format: date-time */
                decidedAt: string;
                decidedBy: {
                  id: string;
                  name: string;
                };
                id: string;
                itemId: string;
              })[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** A review with its items (those the caller sees), decisions and progress */
  getAccessReviewsById: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            title: string;
            scope: {
              /** @enum {string} */
              type: "organisation" | "school_group" | "school";
              id: string;
              name: string;
            };
            /** Format: date-time */
            dueAt: string;
            /** @enum {string} */
            status: "open" | "closed";
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            closedAt: string | null;
            createdBy: {
              id: string;
              name: string;
            } | null;
            progress: {
              decided: number;
              total: number;
            };
            toDecide: number;
            abilities: {
              close: boolean;
            };
            closedBy: {
              id: string;
              name: string;
            } | null;
            summary: string | null;
            auditRuns: {
              start: string | null;
              close: string | null;
            };
            items: ({
                id: string;
                userGroup: {
                  id: string;
                  name: string;
                  deleted: boolean;
                  homeScope: {
                    /** @enum {string} */
                    type: "organisation" | "school_group" | "school";
                    id: string;
                    name: string;
                  };
                };
                reviewers: {
                    id: string;
                    name: string;
                  }[];
                /** Format: date-time */
                since: string;
                /** @enum {string} */
                status: "undecided" | "confirmed" | "changed" | "not_decided";
                decision: ({
                  /** @enum {string} */
                  outcome: "confirmed" | "changed";
                  note: string;
                  /** Format: date-time */
                  decidedAt: string;
                  decidedBy: {
                    id: string;
                    name: string;
                  };
                }) | null;
                abilities: {
                  decide: boolean;
                };
              })[];
            decisions: ({
                /** @enum {string} */
                outcome: "confirmed" | "changed";
                note: string;
                /** Format: date-time */
                decidedAt: string;
                decidedBy: {
                  id: string;
                  name: string;
                };
                id: string;
                itemId: string;
              })[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** One group under review: its members, owners, grants, links and clearances, and what changed since it was last reviewed, with who and when */
  getAccessReviewsByIdItemsByItemId: {
    parameters: {
      path: {
        id: string;
        itemId: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            reviewId: string;
            reviewTitle: string;
            /** @enum {string} */
            reviewStatus: "open" | "closed";
            /** Format: date-time */
            since: string;
            /** @enum {string} */
            status: "undecided" | "confirmed" | "changed" | "not_decided";
            decision: ({
              /** @enum {string} */
              outcome: "confirmed" | "changed";
              note: string;
              /** Format: date-time */
              decidedAt: string;
              decidedBy: string | null;
            }) | null;
            userGroup: {
              id: string;
              name: string;
              description: string;
              rationale: string;
              deleted: boolean;
              memberCount: number;
              homeScope: {
                /** @enum {string} */
                type: "organisation" | "school_group" | "school";
                id: string;
                name: string;
              };
            };
            members: {
                id: string;
                name: string;
                email: string;
                /** Format: date-time */
                since: string;
                new: boolean;
              }[];
            owners: {
                id: string;
                name: string;
                email: string;
                /** Format: date-time */
                since: string;
                new: boolean;
              }[];
            roleGrants: ({
                id: string;
                /** @enum {string} */
                role: "owner" | "dsl" | "deputy_dsl" | "admin" | "viewer";
                scope: {
                  /** @enum {string} */
                  type: "organisation" | "school_group" | "school";
                  id: string;
                  name: string;
                };
                reason: string | null;
                /** Format: date-time */
                since: string;
                new: boolean;
              })[];
            studentLinks: ({
                id: string;
                studentGroup: {
                  id: string;
                  name: string;
                  [key: string]: unknown;
                } | null;
                student: {
                  id: string;
                  name: string;
                } | null;
                redacted: boolean;
                /** Format: date-time */
                since: string;
                new: boolean;
              })[];
            clearances: ({
                /** @enum {string} */
                clearance: "child_protection" | "allegations";
              })[];
            changes: ({
                /** @enum {string} */
                kind: "member" | "owner" | "link" | "grant" | "clearance";
                /** @enum {string} */
                change: "added" | "removed";
                at: string;
                by: {
                  id: string;
                  name: string;
                } | null;
                accessReviewId: string | null;
                user?: {
                  id: string;
                  name: string;
                };
                link?: {
                  id: string;
                  studentGroup: {
                    id: string;
                    name: string;
                    [key: string]: unknown;
                  } | null;
                  student: {
                    id: string;
                    name: string;
                  } | null;
                  redacted: boolean;
                };
                grant?: {
                  id: string;
                  role: string;
                  scope: {
                    /** @enum {string} */
                    type: "organisation" | "school_group" | "school";
                    id: string;
                    name: string;
                  };
                  reason: string | null;
                };
                clearance?: string;
              })[];
            abilities: {
              decide: boolean;
              manageMembers: boolean;
              manageOwners: boolean;
              manageLinks: boolean;
              manageClearances: boolean;
            };
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** Confirm a group's access or record that it was changed, with a note (its owners or an Admin at its home; never a member it gives a role, a clearance or children) */
  postAccessReviewsByIdItemsByItemIdDecision: {
    parameters: {
      path: {
        id: string;
        itemId: string;
      };
    };
    requestBody: {
      content: {
        "application/json": {
          /** @enum {string} */
          outcome: "confirmed" | "changed";
          note: string;
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            title: string;
            scope: {
              /** @enum {string} */
              type: "organisation" | "school_group" | "school";
              id: string;
              name: string;
            };
            /** Format: date-time */
            dueAt: string;
            /** @enum {string} */
            status: "open" | "closed";
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            closedAt: string | null;
            createdBy: {
              id: string;
              name: string;
            } | null;
            progress: {
              decided: number;
              total: number;
            };
            toDecide: number;
            abilities: {
              close: boolean;
            };
            closedBy: {
              id: string;
              name: string;
            } | null;
            summary: string | null;
            auditRuns: {
              start: string | null;
              close: string | null;
            };
            items: ({
                id: string;
                userGroup: {
                  id: string;
                  name: string;
                  deleted: boolean;
                  homeScope: {
                    /** @enum {string} */
                    type: "organisation" | "school_group" | "school";
                    id: string;
                    name: string;
                  };
                };
                reviewers: {
                    id: string;
                    name: string;
                  }[];
                /** Format: date-time */
                since: string;
                /** @enum {string} */
                status: "undecided" | "confirmed" | "changed" | "not_decided";
                decision: ({
                  /** @enum {string} */
                  outcome: "confirmed" | "changed";
                  note: string;
                  /** Format: date-time */
                  decidedAt: string;
                  decidedBy: {
                    id: string;
                    name: string;
                  };
                }) | null;
                abilities: {
                  decide: boolean;
                };
              })[];
            decisions: ({
                /** @enum {string} */
                outcome: "confirmed" | "changed";
                note: string;
                /** Format: date-time */
                decidedAt: string;
                decidedBy: {
                  id: string;
                  name: string;
                };
                id: string;
                itemId: string;
              })[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Close the review with a summary (Admin at its scope)
   * @description Refused with 409 `review_undecided` while items are undecided, unless `force: true` (they stay "not decided").
   */
  postAccessReviewsByIdClose: {
    parameters: {
      path: {
        id: string;
      };
    };
    requestBody: {
      content: {
        "application/json": {
          summary: string;
          force?: boolean;
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            title: string;
            scope: {
              /** @enum {string} */
              type: "organisation" | "school_group" | "school";
              id: string;
              name: string;
            };
            /** Format: date-time */
            dueAt: string;
            /** @enum {string} */
            status: "open" | "closed";
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            closedAt: string | null;
            createdBy: {
              id: string;
              name: string;
            } | null;
            progress: {
              decided: number;
              total: number;
            };
            toDecide: number;
            abilities: {
              close: boolean;
            };
            closedBy: {
              id: string;
              name: string;
            } | null;
            summary: string | null;
            auditRuns: {
              start: string | null;
              close: string | null;
            };
            items: ({
                id: string;
                userGroup: {
                  id: string;
                  name: string;
                  deleted: boolean;
                  homeScope: {
                    /** @enum {string} */
                    type: "organisation" | "school_group" | "school";
                    id: string;
                    name: string;
                  };
                };
                reviewers: {
                    id: string;
                    name: string;
                  }[];
                /** Format: date-time */
                since: string;
                /** @enum {string} */
                status: "undecided" | "confirmed" | "changed" | "not_decided";
                decision: ({
                  /** @enum {string} */
                  outcome: "confirmed" | "changed";
                  note: string;
                  /** Format: date-time */
                  decidedAt: string;
                  decidedBy: {
                    id: string;
                    name: string;
                  };
                }) | null;
                abilities: {
                  decide: boolean;
                };
              })[];
            decisions: ({
                /** @enum {string} */
                outcome: "confirmed" | "changed";
                note: string;
                /** Format: date-time */
                decidedAt: string;
                decidedBy: {
                  id: string;
                  name: string;
                };
                id: string;
                itemId: string;
              })[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Saved Access Audit Report runs the caller may see, newest first
   * @description Runs of the scopes the caller may run the report for now. Runs are never changed or deleted.
   */
  getReportsAccessAudit: {
    parameters: {
      query?: {
        limit?: number;
        cursor?: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: ({
                id: string;
                /** Format: date-time */
                createdAt: string;
                scope: {
                  /** @enum {string} */
                  type: "organisation" | "school_group" | "school";
                  id: string;
                  name: string;
                };
                /** @description Null: as at the moment the run was taken (createdAt) */
                asOf: string | null;
                /** @description SHA-256 (hex) of the saved JSON document, exactly as downloaded */
                sha256: string;
                rowCount: number;
                byteLength: number;
                createdBy: {
                  id: string;
                  name: string;
                };
                flagCounts: {
                  no_user_group: number;
                  dsl_reaches_no_child: number;
                  clearance_without_two_factor: number;
                  all_students_link: number;
                  dormant: number;
                  more_than_two_owners: number;
                };
              })[];
            nextCursor: string | null;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Run the Access Audit Report and save the run (Admin and above, for their scope)
   * @description One row per person in the scope (default: the organisation), now or as of a past time, saved immutably with its SHA-256; the run is written to the audit log. 403 for a scope the caller may not run it for, 404 for an unknown scope.
   */
  postReportsAccessAudit: {
    requestBody: {
      content: {
        "application/json": {
          scope?: {
            /** @enum {string} */
            type: "organisation" | "school_group" | "school";
            id: string;
          };
          /** Format: date-time */
          asOf?: string;
        };
      };
    };
    responses: {
      /** @description Default Response */
      201: {
        content: {
          "application/json": {
            id: string;
            /** Format: date-time */
            createdAt: string;
            scope: {
              /** @enum {string} */
              type: "organisation" | "school_group" | "school";
              id: string;
              name: string;
            };
            /** @description Null: as at the moment the run was taken (createdAt) */
            asOf: string | null;
            /** @description SHA-256 (hex) of the saved JSON document, exactly as downloaded */
            sha256: string;
            rowCount: number;
            byteLength: number;
            createdBy: {
              id: string;
              name: string;
            };
            flagCounts: {
              no_user_group: number;
              dsl_reaches_no_child: number;
              clearance_without_two_factor: number;
              all_students_link: number;
              dormant: number;
              more_than_two_owners: number;
            };
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Download a saved run: its JSON exactly as saved, or CSV or PDF made from it
   * @description `format=json` (default) answers the saved bytes, whose SHA-256 is the run’s (`Repr-Digest`, RFC 9530); `csv` and `pdf` are rendered from them, the same bytes on every download. Every download is written to the access log. 404 for a run of a scope the caller may not run the report for.
   */
  getReportsAccessAuditById: {
    parameters: {
      query?: {
        format?: "json" | "csv" | "pdf";
      };
      path: {
        id: string;
      };
    };
    responses: {
      /** @description The saved run, as an attachment */
      200: {
        content: {
          "application/json": unknown;
          "text/csv": unknown;
          "application/pdf": unknown;
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * The child's safeguarding file as the caller may see it, as JSON or a printable PDF
   * @description Who the child is, and every concern (with the earlier versions, actions and documents) the caller may read, oldest first; documents are listed, not included. Records the caller may not read are left out without a trace. Every download is written to the access log. 404 for a child the caller cannot see; 403 `mfa_required` when a two-factor step-up would add records.
   */
  getStudentsByIdSafeguardingFile: {
    parameters: {
      query?: {
        format?: "json" | "pdf";
      };
      path: {
        id: string;
      };
    };
    responses: {
      /** @description The file, as an attachment */
      200: {
        content: {
          "application/json": {
            child: {
              id: string;
              name: string;
              givenName: string;
              familyName: string;
              preferredName: string | null;
              dateOfBirth: string | null;
              upn: string | null;
              yearGroup: number | null;
              school: {
                id: string;
                name: string;
              };
            };
            /** Format: date-time */
            madeAt: string;
            madeBy: {
              id: string;
              name: string;
            };
            /** @description Whose view of the records the file holds */
            asSeenBy: {
              id: string;
              name: string;
            };
            /** @description The same sentence in every file, whatever it holds */
            note: string;
            /** @description Concerns (with their earlier versions, actions and documents) and documents on the child's own file, oldest first */
            entries: (OneOf<[{
                /** @enum {string} */
                kind: "concern";
                at: string;
                concern: {
                  id: string;
                  category: string;
                  /** @enum {string} */
                  sensitivity: "standard" | "child_protection" | "allegation";
                  /** Format: date-time */
                  occurredAt: string;
                  /** Format: date-time */
                  recordedAt: string;
                  /** @description Who reported it */
                  reporter: string;
                  location: string | null;
                  /** @description The account as it stands now */
                  description: string;
                  /** @enum {string} */
                  status: "open" | "in_progress" | "closed";
                  revision: number;
                  /** @description Earlier versions the caller may read, oldest first */
                  revisions: ({
                      revision: number;
                      /** Format: date-time */
                      replacedAt: string;
                      replacedBy: string | null;
                      category: string;
                      /** @enum {string} */
                      sensitivity: "standard" | "child_protection" | "allegation";
                      /** Format: date-time */
                      occurredAt: string;
                      location: string | null;
                      description: string;
                      /** @enum {string} */
                      status: "open" | "in_progress" | "closed";
                    })[];
                  actions: ({
                      id: string;
                      title: string;
                      /** Format: date-time */
                      createdAt: string;
                      /** Format: date-time */
                      dueAt: string | null;
                      /** Format: date-time */
                      completedAt: string | null;
                      completedBy: string | null;
                    })[];
                  /** @description Documents filed on the concern */
                  documents: {
                      id: string;
                      /** @description The file name; the content is not part of the file */
                      name: string;
                      contentType: string;
                      /** @description Bytes */
                      size: number;
                      /** Format: date-time */
                      addedAt: string;
                    }[];
                };
              }, {
                /** @enum {string} */
                kind: "document";
                at: string;
                document: {
                  id: string;
                  /** @description The file name; the content is not part of the file */
                  name: string;
                  contentType: string;
                  /** @description Bytes */
                  size: number;
                  /** Format: date-time */
                  addedAt: string;
                };
              }]>)[];
          };
          "application/pdf": unknown;
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * The school's records past their retention day that the caller may review
   * @description Earliest day first, on legal hold or not; records the caller may not read are left out. DSL (or Owner) at the school; 404 for a school not of the organisation.
   */
  getRetentionQueue: {
    parameters: {
      query: {
        limit?: number;
        cursor?: string;
        schoolId: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: ({
                id: string;
                schoolId: string;
                category: {
                  id: string;
                  name: string;
                };
                /** @enum {string} */
                sensitivity: "standard" | "child_protection" | "allegation";
                /** Format: date-time */
                occurredAt: string;
                /** @description The day the record is kept to, "YYYY-MM-DD" */
                retainUntil: string;
                /**
                 * @description The rule that set the day (before any extension)
                 * @enum {string}
                 */
                rule: "child_protection_25th_birthday" | "child_protection_birth_date_unknown" | "allegation_retirement_age" | "allegation_ten_years" | "allegation_subject_birth_date_unknown" | "school_retention_years";
                /** @description A later day a DSL kept it to */
                extendedTo: string | null;
                legalHoldSince: string | null;
                /** Format: date-time */
                deletedAt: string | null;
              })[];
            nextCursor: string | null;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * A record's retention: its day, the rule that set it and every decision
   * @description A destroyed record answers with its tombstone (no content). 404 for a record the caller cannot read; 403 without `records.retention` at its school.
   */
  getRetentionRecordsById: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            schoolId: string;
            category: {
              id: string;
              name: string;
            };
            /** @enum {string} */
            sensitivity: "standard" | "child_protection" | "allegation";
            /** Format: date-time */
            occurredAt: string;
            /** @description The day the record is kept to, "YYYY-MM-DD" */
            retainUntil: string;
            /**
             * @description The rule that set the day (before any extension)
             * @enum {string}
             */
            rule: "child_protection_25th_birthday" | "child_protection_birth_date_unknown" | "allegation_retirement_age" | "allegation_ten_years" | "allegation_subject_birth_date_unknown" | "school_retention_years";
            /** @description A later day a DSL kept it to */
            extendedTo: string | null;
            legalHoldSince: string | null;
            /** Format: date-time */
            deletedAt: string | null;
            /** @description The day the rule alone keeps it to */
            ruleDay: string;
            /** @description An allegation subject's date of birth, as recorded */
            subjectBornOn: string | null;
            /** @description Past its day, not on hold and not destroyed */
            due: boolean;
            /** Format: date-time */
            destroyedAt: string | null;
            /** @description Every decision, oldest first */
            decisions: ({
                id: string;
                action: string;
                day: string | null;
                reason: string | null;
                rule: string;
                retainUntil: string;
                decidedBy: {
                  id: string;
                  name: string;
                };
                /** Format: date-time */
                decidedAt: string;
              })[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Extend, hold, release, record the subject’s date of birth, or destroy
   * @description `destroy` is the approval and the destruction at once: the content, revisions and documents go, the record stays as a tombstone and `incident.destroy` joins the audit chain. 409 `retention_not_reached`, `legal_hold`, `subject_birth_date_unknown`, `already_on_hold`, `not_on_hold`, `not_an_allegation` or `record_destroyed`; a refusal changes nothing.
   */
  postRetentionRecordsByIdDecisions: {
    parameters: {
      path: {
        id: string;
      };
    };
    requestBody: {
      content: {
        "application/json": OneOf<[{
          /** @enum {string} */
          action: "extend";
          /** Format: date */
          until: string;
          reason: string;
        }, {
          /** @enum {string} */
          action: "hold";
          reason: string;
        }, {
          /** @enum {string} */
          action: "release";
          reason: string;
        }, {
          /** @enum {string} */
          action: "subject_born";
          /** Format: date */
          dateOfBirth: string;
          reason?: string;
        }, {
          /** @enum {string} */
          action: "destroy";
        }]>;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            schoolId: string;
            category: {
              id: string;
              name: string;
            };
            /** @enum {string} */
            sensitivity: "standard" | "child_protection" | "allegation";
            /** Format: date-time */
            occurredAt: string;
            /** @description The day the record is kept to, "YYYY-MM-DD" */
            retainUntil: string;
            /**
             * @description The rule that set the day (before any extension)
             * @enum {string}
             */
            rule: "child_protection_25th_birthday" | "child_protection_birth_date_unknown" | "allegation_retirement_age" | "allegation_ten_years" | "allegation_subject_birth_date_unknown" | "school_retention_years";
            /** @description A later day a DSL kept it to */
            extendedTo: string | null;
            legalHoldSince: string | null;
            /** Format: date-time */
            deletedAt: string | null;
            /** @description The day the rule alone keeps it to */
            ruleDay: string;
            /** @description An allegation subject's date of birth, as recorded */
            subjectBornOn: string | null;
            /** @description Past its day, not on hold and not destroyed */
            due: boolean;
            /** Format: date-time */
            destroyedAt: string | null;
            /** @description Every decision, oldest first */
            decisions: ({
                id: string;
                action: string;
                day: string | null;
                reason: string | null;
                rule: string;
                retainUntil: string;
                decidedBy: {
                  id: string;
                  name: string;
                };
                /** Format: date-time */
                decidedAt: string;
              })[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Transfers sent from (out) or offered to (in) the caller’s schools
   * @description out: schools where the caller manages transfers; in: schools where the caller is DSL (or above). An offer shows the child’s name and date of birth, the sending school and the reason; nothing of the records until it is accepted.
   */
  getTransfers: {
    parameters: {
      query?: {
        direction?: "in" | "out";
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: (({
                id: string;
                /** @enum {string} */
                kind: "organisation" | "installation" | "external";
                /** @enum {string} */
                status: "sent" | "received" | "cancelled";
                child: {
                  id: string;
                  name: string;
                };
                fromSchool: {
                  id: string;
                  name: string;
                };
                toSchool: {
                  id: string;
                  name: string;
                } | null;
                external: ({
                  schoolName: string;
                  contact: string | null;
                }) | null;
                reason: string;
                /** @description Five school days after it was sent, at the sending school */
                dueOn: string;
                /** Format: date-time */
                sentAt: string;
                sentBy: {
                  id: string;
                  name: string;
                };
                /** Format: date-time */
                receivedAt: string | null;
                receivedBy: string | null;
                /** @description An external transfer: who at the new school confirmed receipt, on which day, how */
                receipt: ({
                  confirmedBy: string;
                  confirmedOn: string;
                  note: string | null;
                }) | null;
                overdue: boolean;
              })[]) | (({
                id: string;
                /** @enum {string} */
                status: "sent" | "received" | "cancelled";
                child: {
                  name: string;
                  dateOfBirth: string | null;
                  /** @description The child at the receiving school, once accepted */
                  studentId: string | null;
                };
                fromSchool: {
                  name: string;
                  organisation: string;
                };
                toSchool: {
                  id: string;
                  name: string;
                };
                reason: string;
                /** Format: date-time */
                sentAt: string;
                dueOn: string;
                /** Format: date-time */
                receivedAt: string | null;
              })[]);
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Send the child's safeguarding file to another school on this installation
   * @description Admin or above at the child's school, who must read the child's whole file (403 `file_not_whole` otherwise). The file as they read it is kept with the transfer; it is due five school days later. 404 for a child the caller cannot see; 409 `transfer_pending` while another transfer of the child waits for receipt.
   */
  postTransfers: {
    requestBody: {
      content: {
        "application/json": {
          studentId: string;
          toSchoolId: string;
          reason: string;
        } | {
          studentId: string;
          external: {
            schoolName: string;
            contact: string;
          };
          reason: string;
        };
      };
    };
    responses: {
      /** @description Default Response */
      201: {
        content: {
          "application/json": {
            id: string;
            /** @enum {string} */
            status: "sent";
            /** @description External transfers only: opens the archive. Shown this once and never kept: send it separately from the archive */
            passphrase?: string;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * The organisation's schools a file may be sent to
   * @description Another organisation's schools are not listed: its school gives the sender its school id.
   */
  getTransfersDestinations: {
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: {
                id: string;
                name: string;
                organisation: string;
                sameOrganisation: boolean;
              }[];
          };
        };
      };
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Accept a file offered to one’s school: the receipt is recorded
   * @description The receiving school's DSL (or above). The child is on roll at the receiving school with the file's records, which its Safeguarding Team reads. 404 for a transfer not offered to the caller's organisation; 409 `transfer_received` once accepted.
   */
  postTransfersByIdAccept: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            /** @enum {string} */
            status: "received";
            studentId: string;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * The file as it was sent: the sending school’s closed, read-only copy
   * @description DSL (or above) at the sending school; 404 otherwise.
   */
  getTransfersByIdFile: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            child: {
              id: string;
              name: string;
              givenName: string;
              familyName: string;
              preferredName: string | null;
              dateOfBirth: string | null;
              upn: string | null;
              yearGroup: number | null;
              school: {
                id: string;
                name: string;
              };
            };
            /** Format: date-time */
            madeAt: string;
            madeBy: {
              id: string;
              name: string;
            };
            /** @description Whose view of the records the file holds */
            asSeenBy: {
              id: string;
              name: string;
            };
            /** @description The same sentence in every file, whatever it holds */
            note: string;
            /** @description Concerns (with their earlier versions, actions and documents) and documents on the child's own file, oldest first */
            entries: (OneOf<[{
                /** @enum {string} */
                kind: "concern";
                at: string;
                concern: {
                  id: string;
                  category: string;
                  /** @enum {string} */
                  sensitivity: "standard" | "child_protection" | "allegation";
                  /** Format: date-time */
                  occurredAt: string;
                  /** Format: date-time */
                  recordedAt: string;
                  /** @description Who reported it */
                  reporter: string;
                  location: string | null;
                  /** @description The account as it stands now */
                  description: string;
                  /** @enum {string} */
                  status: "open" | "in_progress" | "closed";
                  revision: number;
                  /** @description Earlier versions the caller may read, oldest first */
                  revisions: ({
                      revision: number;
                      /** Format: date-time */
                      replacedAt: string;
                      replacedBy: string | null;
                      category: string;
                      /** @enum {string} */
                      sensitivity: "standard" | "child_protection" | "allegation";
                      /** Format: date-time */
                      occurredAt: string;
                      location: string | null;
                      description: string;
                      /** @enum {string} */
                      status: "open" | "in_progress" | "closed";
                    })[];
                  actions: ({
                      id: string;
                      title: string;
                      /** Format: date-time */
                      createdAt: string;
                      /** Format: date-time */
                      dueAt: string | null;
                      /** Format: date-time */
                      completedAt: string | null;
                      completedBy: string | null;
                    })[];
                  /** @description Documents filed on the concern */
                  documents: {
                      id: string;
                      /** @description The file name; the content is not part of the file */
                      name: string;
                      contentType: string;
                      /** @description Bytes */
                      size: number;
                      /** Format: date-time */
                      addedAt: string;
                    }[];
                };
              }, {
                /** @enum {string} */
                kind: "document";
                at: string;
                document: {
                  id: string;
                  /** @description The file name; the content is not part of the file */
                  name: string;
                  contentType: string;
                  /** @description Bytes */
                  size: number;
                  /** Format: date-time */
                  addedAt: string;
                };
              }]>)[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Record by hand that a school not on Haven confirmed receipt
   * @description Admin or above at the sending school. 409 `transfer_not_external` for a transfer on Haven (the receiver accepts it there), `transfer_closed` once received or cancelled.
   */
  postTransfersByIdReceipt: {
    parameters: {
      path: {
        id: string;
      };
    };
    requestBody: {
      content: {
        "application/json": {
          receivedBy: string;
          /** Format: date */
          receivedOn: string;
          note?: string;
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            /** @enum {string} */
            status: "received";
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Withdraw a transfer not yet received */
  postTransfersByIdCancel: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            id: string;
            /** @enum {string} */
            status: "cancelled";
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * An external transfer's encrypted archive (the file, its PDF and the documents)
   * @description Admin or above at the sending school; open it with the passphrase shown when it was sent (`haven transfer decrypt`). Every download is in the access log.
   */
  getTransfersByIdArchive: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description The download, as an attachment */
      200: {
        content: {
          "application/octet-stream": unknown;
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * The printable PDF chronology of the file as it was sent
   * @description DSL (or above) at the sending school. Every download is in the access log.
   */
  getTransfersByIdPdf: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description The download, as an attachment */
      200: {
        content: {
          "application/pdf": unknown;
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * The school's holidays, which a transfer's school-day clock skips
   * @description Admin (or above) at the school; 404 for a school not of the organisation.
   */
  getSchoolsByIdHolidays: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: {
                id: string;
                startsOn: string;
                endsOn: string;
                name: string;
              }[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** Add a holiday (both days included) */
  postSchoolsByIdHolidays: {
    parameters: {
      path: {
        id: string;
      };
    };
    requestBody: {
      content: {
        "application/json": {
          /** Format: date */
          startsOn: string;
          /** Format: date */
          endsOn: string;
          name: string;
        };
      };
    };
    responses: {
      /** @description Default Response */
      201: {
        content: {
          "application/json": {
            id: string;
            startsOn: string;
            endsOn: string;
            name: string;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Remove a holiday */
  deleteSchoolsByIdHolidaysByHolidayId: {
    parameters: {
      path: {
        id: string;
        holidayId: string;
      };
    };
    responses: {
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * The organisation's SCIM tokens, revoked ones too, newest first (Owner)
   * @description Never the token itself.
   */
  getOrganisationScimTokens: {
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: ({
                id: string;
                name: string;
                /** Format: date-time */
                createdAt: string;
                createdBy: {
                  id: string;
                  name: string;
                } | null;
                /** Format: date-time */
                lastUsedAt: string | null;
                /** Format: date-time */
                revokedAt: string | null;
              })[];
          };
        };
      };
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Create a SCIM provisioning token (Owner)
   * @description The token is in this answer only (Haven keeps its hash). Give it to Microsoft Entra ID or Google as the secret token of `/scim/v2`: it provisions accounts and groups across the organisation, with the authority docs/decisions.md describes.
   */
  postOrganisationScimTokens: {
    requestBody: {
      content: {
        "application/json": {
          name: string;
        };
      };
    };
    responses: {
      /** @description Default Response */
      201: {
        content: {
          "application/json": {
            id: string;
            token: string;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Revoke a SCIM token (Owner); its next request is refused */
  deleteOrganisationScimTokensById: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Import a OneRoster 1.2 CSV bundle (Admin)
   * @description Send the bundle as `application/zip`, or as JSON `{ files: { "manifest.csv": "...", "orgs.csv": "...", ... }, schools?: { "<sourcedId or identifier>": "<Haven school id>" } }`. Schools are matched by Haven school id (as sourcedId or identifier), by `schools`, else by exact name; pupils are added or updated by UPN (metadata.upn, userIds {UPN:...} or identifier) and taken off roll when `tobedeleted`; teachers, aides and administrators are added holding only Member or renamed by email, and disabled when `tobedeleted`. A record whose `dateLastModified` is older than Haven's last change to it is left as Haven has it. `dryRun`, `onError` and `runId` work as for the CSV imports; a bundle holding staff also needs `users.manage` (403). Each import is audited (`import.finish`: the run, its kind, status and counts). docs/imports.md.
   */
  postImportsOneroster: {
    parameters: {
      query?: {
        dryRun?: "true" | "false";
        onError?: "stop" | "skip";
        runId?: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            runId: string;
            dryRun: boolean;
            /** @enum {string} */
            onError: "stop" | "skip";
            source: string;
            schools: {
                sourcedId: string;
                name: string;
                schoolId: string;
              }[];
            students: {
              created: number;
              updated: number;
              unchanged: number;
            };
            staff: {
              created: number;
              updated: number;
              unchanged: number;
            };
            skipped: number;
            plan: {
              students: {
                create: number;
                update: number;
                unchanged: number;
              };
              staff: {
                create: number;
                update: number;
                unchanged: number;
              };
              skip: number;
            };
            errors: {
                line: number;
                column: string;
                message: string;
                text: string;
                file?: string;
              }[];
            ignoredColumns: string[];
            notes: string[];
          };
        };
      };
      /** @description Default Response */
      201: {
        content: {
          "application/json": {
            runId: string;
            dryRun: boolean;
            /** @enum {string} */
            onError: "stop" | "skip";
            source: string;
            schools: {
                sourcedId: string;
                name: string;
                schoolId: string;
              }[];
            students: {
              created: number;
              updated: number;
              unchanged: number;
            };
            staff: {
              created: number;
              updated: number;
              unchanged: number;
            };
            skipped: number;
            plan: {
              students: {
                create: number;
                update: number;
                unchanged: number;
              };
              staff: {
                create: number;
                update: number;
                unchanged: number;
              };
              skip: number;
            };
            errors: {
                line: number;
                column: string;
                message: string;
                text: string;
                file?: string;
              }[];
            ignoredColumns: string[];
            notes: string[];
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** What the SCIM service supports (RFC 7644 section 5) */
  getScimV2ServiceProviderConfig: {
    responses: {
      /** @description application/scim+json */
      200: {
        content: {
          "application/json": {
            [key: string]: unknown;
          };
        };
      };
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** The SCIM resource types */
  getScimV2ResourceTypes: {
    responses: {
      /** @description application/scim+json */
      200: {
        content: {
          "application/json": {
            [key: string]: unknown;
          };
        };
      };
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** One SCIM resource type */
  getScimV2ResourceTypesById: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description application/scim+json */
      200: {
        content: {
          "application/json": {
            [key: string]: unknown;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** The SCIM schemas */
  getScimV2Schemas: {
    responses: {
      /** @description application/scim+json */
      200: {
        content: {
          "application/json": {
            [key: string]: unknown;
          };
        };
      };
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** One SCIM schema */
  getScimV2SchemasById: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description application/scim+json */
      200: {
        content: {
          "application/json": {
            [key: string]: unknown;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Users of the organisation (SCIM ListResponse)
   * @description `filter` takes `userName`, `emails.value`, `externalId`, `id`, `displayName` with `eq`, `active eq true|false`, `externalId pr`, joined with `and` / `or`; `startIndex` (1-based) and `count` (at most 200) page in SQL.
   */
  getScimV2Users: {
    parameters: {
      query?: {
        filter?: string;
        startIndex?: string;
        count?: string;
        attributes?: string;
        excludedAttributes?: string;
      };
    };
    responses: {
      /** @description application/scim+json */
      200: {
        content: {
          "application/json": {
            [key: string]: unknown;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** Provision a user: a Member of the organisation, without a role */
  postScimV2Users: {
    responses: {
      /** @description application/scim+json */
      201: {
        content: {
          "application/json": {
            [key: string]: unknown;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** One user */
  getScimV2UsersById: {
    parameters: {
      query?: {
        attributes?: string;
        excludedAttributes?: string;
      };
      path: {
        id: string;
      };
    };
    responses: {
      /** @description application/scim+json */
      200: {
        content: {
          "application/json": {
            [key: string]: unknown;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** Replace a user */
  putScimV2UsersById: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description application/scim+json */
      200: {
        content: {
          "application/json": {
            [key: string]: unknown;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Deprovision a user: their account is disabled, never deleted */
  deleteScimV2UsersById: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Change a user (PatchOp); `active: false` disables them and ends their sessions */
  patchScimV2UsersById: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description application/scim+json */
      200: {
        content: {
          "application/json": {
            [key: string]: unknown;
          };
        };
      };
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * The organisation's user groups (not those Haven makes itself)
   * @description `filter` takes `displayName`, `externalId`, `id`, `members.value` with `eq`; `excludedAttributes=members` leaves members out.
   */
  getScimV2Groups: {
    parameters: {
      query?: {
        filter?: string;
        startIndex?: string;
        count?: string;
        attributes?: string;
        excludedAttributes?: string;
      };
    };
    responses: {
      /** @description application/scim+json */
      200: {
        content: {
          "application/json": {
            [key: string]: unknown;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** Create a user group, homed at the organisation */
  postScimV2Groups: {
    responses: {
      /** @description application/scim+json */
      201: {
        content: {
          "application/json": {
            [key: string]: unknown;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** One user group */
  getScimV2GroupsById: {
    parameters: {
      query?: {
        attributes?: string;
        excludedAttributes?: string;
      };
      path: {
        id: string;
      };
    };
    responses: {
      /** @description application/scim+json */
      200: {
        content: {
          "application/json": {
            [key: string]: unknown;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /** Replace a group's name, externalId and members */
  putScimV2GroupsById: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description application/scim+json */
      200: {
        content: {
          "application/json": {
            [key: string]: unknown;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /** Delete a user group (its history is kept) */
  deleteScimV2GroupsById: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Change a group's name or members (PatchOp)
   * @description Refused (403) for a group that confers Owner, DSL, Deputy DSL or a clearance: a person who holds it decides its members, in Haven.
   */
  patchScimV2GroupsById: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description application/scim+json */
      200: {
        content: {
          "application/json": {
            [key: string]: unknown;
          };
        };
      };
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Send a user a new invitation (Admin); the link of the earlier one stops working
   * @description For a user who has never set a password nor signed in: queues an email with a new single-use link, valid 7 days. 409 `already_active` once they have signed in or set a password (they reset it from the sign-in page instead), 409 `account_disabled` for a disabled user, 409 `email_off` when Haven sends no email (`HAVEN_SMTP_URL` unset). Refused like editing the user when the caller could not have granted every role they hold.
   */
  postUsersByIdInvitation: {
    parameters: {
      path: {
        id: string;
      };
    };
    responses: {
      /** @description Default Response */
      202: {
        content: {
          "application/json": {
            /** Format: date-time */
            sentAt: string;
            /** Format: date-time */
            expiresAt: string;
            /** @enum {string} */
            delivery: "email";
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Accept an invitation: choose a password and sign in
   * @description With the `token` of the link in the invitation email (`/accept-invitation?token=…`) and a new `password` (at least 12 characters, not easy to guess; else 400 `validation_failed` naming `password`, and the link still works). Answers as `POST /auth/login`: the session cookie, and `{ token, csrfToken, expiresAt, user, mfaEnrolmentRequired }`. A link that is unknown, already used, replaced by a newer invitation or past its 7 days answers 400 `invalid_token` and changes nothing; so does one for an account that has signed in meanwhile. A disabled account: 403 `account_disabled`. Someone who holds no role yet has their password set and is answered 403 `no_role`, as at sign-in; they sign in once given one.
   */
  postAuthAcceptInvitation: {
    requestBody: {
      content: {
        "application/json": {
          token: string;
          password: string;
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            token: string;
            csrfToken: string;
            /** Format: date-time */
            expiresAt: string;
            user: {
              id: string;
              email: string;
              name: string;
              /** @enum {string} */
              status: "invited" | "active" | "disabled";
              /** Format: date-time */
              createdAt: string;
              /** Format: date-time */
              updatedAt: string;
              /** Format: date-time */
              disabledAt: string | null;
              /** Format: date-time */
              lastSignInAt: string | null;
              organisation: {
                id: string;
                name: string;
              };
              roles: ({
                  grantId: string | null;
                  /** @enum {string} */
                  role: "owner" | "dsl" | "deputy_dsl" | "admin" | "viewer";
                  scope: {
                    /** @enum {string} */
                    type: "organisation" | "school_group" | "school";
                    id: string;
                    name: string;
                  };
                  source: OneOf<[{
                    /** @enum {string} */
                    type: "direct";
                  }, {
                    /** @enum {string} */
                    type: "user_group";
                    userGroupId: string | null;
                    userGroupName: string | null;
                  }]>;
                  /** Format: date-time */
                  since: string;
                })[];
              abilities: string[];
              /** @enum {string} */
              totpStatus: "off" | "pending" | "active";
              /** Format: date-time */
              mfaAt: string | null;
              mfaEnrolmentRequired: boolean;
              csrfToken?: string;
            };
            mfaEnrolmentRequired: boolean;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      409: components["responses"]["Conflict"];
      429: components["responses"]["TooManyRequests"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Ask for a password reset link by email
   * @description Always 202 with the same answer, whether or not an account uses the email, so the answer tells nobody which addresses have accounts. Each account that may sign in with this email (one per organisation) is sent its own link, naming its organisation, valid one hour and once; a newer request replaces the link of an earlier one. At most 3 emails per account and hour: further requests are answered alike and dropped. Disabled accounts get nothing. Without email set up nothing is sent, and the answer says so (`emailOn: false`), the same for every address.
   */
  postAuthPasswordReset: {
    requestBody: {
      content: {
        "application/json": {
          email: string;
        };
      };
    };
    responses: {
      /** @description Default Response */
      202: {
        content: {
          "application/json": {
            message: string;
            emailOn: boolean;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      409: components["responses"]["Conflict"];
      429: components["responses"]["TooManyRequests"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Choose a new password with a reset link; every session of the account ends
   * @description With the `token` of the link in the reset email (`/reset-password?token=…`) and a new `password` (the usual strength rules; a weak one answers 400 `validation_failed` and the link still works). 204: the password is set, every session of the account ends (sign in again), and any other invitation or reset link of theirs stops working. A link that is unknown, already used, replaced or past its hour answers 400 `invalid_token` and changes nothing; a disabled account 403 `account_disabled`. Two-factor sign-in, if on, stays on.
   */
  postAuthPasswordResetConfirm: {
    requestBody: {
      content: {
        "application/json": {
          token: string;
          password: string;
        };
      };
    };
    responses: {
      /** @description No content */
      204: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      409: components["responses"]["Conflict"];
      429: components["responses"]["TooManyRequests"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Single sign-on: the providers and switches (Owner)
   * @description The client secrets are never answered (`clientSecretSet: true`). Each provider’s `redirectUri` is what to register at it: every provider has its own (`/api/v1/auth/oidc/<providerId>/callback`), so an answer is taken only for the provider it was asked of.
   */
  getOrganisationSso: {
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            providers: ({
                id: string;
                /** @enum {string} */
                kind: "microsoft" | "google" | "oidc";
                label: string | null;
                tenantId: string | null;
                issuer: string;
                clientId: string;
                /** @enum {boolean} */
                clientSecretSet: true;
                allowedDomains: string[];
                startUrl: string;
                /** Format: date-time */
                createdAt: string;
                /** Format: date-time */
                updatedAt: string;
                redirectUri: string;
              })[];
            passwordSignIn: boolean;
            createAccounts: boolean;
            acceptProviderMfa: boolean;
          };
        };
      };
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Replace the single sign-on providers and switches (Owner)
   * @description Each provider: `kind` `microsoft` (send `tenantId`, the directory id, and Haven uses `https://login.microsoftonline.com/<tenantId>/v2.0`; or the whole `issuer`), `google` (`https://accounts.google.com`) or `oidc` (any `issuer`, https); `clientId`; `clientSecret`, needed for a new provider and kept when left out for an existing one (sent with its `id`; an id that is not one of this organisation's providers answers 404); `allowedDomains`, the email domains it may sign in (lower case); an optional `label` for the button. Providers left out are removed, with the sign-ins linked to them; changing a provider's issuer or client id forgets its links too. Switches: `passwordSignIn` (false: `POST /auth/login` answers 403 `password_sign_in_off` for this organisation's accounts, once the password is right; turning it off is refused with 409 `sso_not_proven` unless the caller has signed in through one of the providers, kept as they are), `createAccounts` (a person with a verified address in an allowed domain and no account gets one, as a Member who still needs a role), `acceptProviderMfa` (a sign-in whose ID token says it was multi-factor, `amr`, counts as a passed two-factor check at that moment). Answers as the GET.
   */
  putOrganisationSso: {
    requestBody: {
      content: {
        "application/json": {
          providers: ({
              id?: string;
              /** @enum {string} */
              kind: "microsoft" | "google" | "oidc";
              label?: string | null;
              tenantId?: string | null;
              issuer?: string;
              clientId: string;
              clientSecret?: string;
              allowedDomains: string[];
            })[];
          passwordSignIn: boolean;
          createAccounts: boolean;
          acceptProviderMfa: boolean;
        };
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            providers: ({
                id: string;
                /** @enum {string} */
                kind: "microsoft" | "google" | "oidc";
                label: string | null;
                tenantId: string | null;
                issuer: string;
                clientId: string;
                /** @enum {boolean} */
                clientSecretSet: true;
                allowedDomains: string[];
                startUrl: string;
                /** Format: date-time */
                createdAt: string;
                /** Format: date-time */
                updatedAt: string;
                redirectUri: string;
              })[];
            passwordSignIn: boolean;
            createAccounts: boolean;
            acceptProviderMfa: boolean;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      401: components["responses"]["Unauthorized"];
      403: components["responses"]["Forbidden"];
      404: components["responses"]["NotFound"];
      409: components["responses"]["Conflict"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * The single sign-on buttons for the sign-in page
   * @description Without `email`: the providers of the installation's organisation when it holds exactly one, else none. With `email`: the providers whose allowed domains include its domain, whichever organisation they belong to. `passwordSignIn` is false when every organisation answered about has turned password sign-in off.
   */
  getAuthSsoProviders: {
    parameters: {
      query?: {
        email?: string;
      };
    };
    responses: {
      /** @description Default Response */
      200: {
        content: {
          "application/json": {
            items: ({
                id: string;
                /** @enum {string} */
                kind: "microsoft" | "google" | "oidc";
                label: string;
                organisationName: string;
                startUrl: string;
              })[];
            passwordSignIn: boolean;
          };
        };
      };
      400: components["responses"]["BadRequest"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * Start signing in through a provider: redirects to it
   * @description Redirects to the provider (authorization code flow with PKCE S256, state and nonce) and sets a short-lived cookie binding the sign-in to this browser. An unknown provider, or one that cannot be reached, redirects to `/sign-in?sso_error=sso_unknown_provider` or `sso_unavailable`.
   */
  getAuthOidcByProviderIdStart: {
    parameters: {
      path: {
        providerId: string;
      };
    };
    responses: {
      /** @description A redirect (302, `Location`) */
      302: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
  /**
   * The provider’s answer: signs in and redirects to the web app
   * @description The provider’s redirect URI (each provider has its own). Checks the sign-in was started in this browser, with this provider, and not yet used (each is used once, within 10 minutes), exchanges the code (PKCE) and checks the ID token (signature, issuer, audience, nonce). The person is the one linked to the provider's `sub`, else the user of the organisation with the email address the provider vouches for, within the provider's allowed domains. Success sets the session cookie and redirects to `/`; otherwise a redirect to `/sign-in?sso_error=<code>`: `sso_state` (not started in this browser, tampered or used), `sso_expired`, `sso_cancelled`, `sso_failed`, `sso_unverified_email`, `sso_domain`, `sso_no_account`, `sso_disabled`, `sso_no_role` (a Member who still needs a role), `sso_rate_limited`.
   */
  getAuthOidcByProviderIdCallback: {
    parameters: {
      query?: {
        code?: string;
        state?: string;
        error?: string;
        error_description?: string;
        iss?: string;
      };
      path: {
        providerId: string;
      };
    };
    responses: {
      /** @description A redirect (302, `Location`) */
      302: {
        content: never;
      };
      400: components["responses"]["BadRequest"];
      404: components["responses"]["NotFound"];
      default: components["responses"]["Problem"];
    };
  };
}
