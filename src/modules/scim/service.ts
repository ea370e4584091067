import type { Database } from '../../db/database.ts';
import type { UserGroupService } from '../user-groups/service.ts';
import { ScimGroups } from './groups.ts';
import { ScimTokenService } from './tokens.ts';
import { ScimUsers } from './users.ts';

/** Where the SCIM service is mounted; outside `/api/v1`, authenticated by SCIM token only. */
export const SCIM_PATH = '/scim/v2';

/** SCIM 2.0 provisioning: the Owners' tokens, and the Users and Groups the tokens provision. */
export class ScimService {
  readonly tokens: ScimTokenService;
  readonly users: ScimUsers;
  readonly groups: ScimGroups;
  /** The service's own address, for `meta.location` and `$ref`. */
  readonly base: string;

  constructor(database: Database, userGroups: UserGroupService, publicUrl: string) {
    this.base = `${publicUrl}${SCIM_PATH}`;
    this.tokens = new ScimTokenService(database);
    this.users = new ScimUsers(database, this.base);
    this.groups = new ScimGroups(database, userGroups, this.base);
  }
}
