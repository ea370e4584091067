/**
 * A large multi-academy trust, generated deterministically from a seed: the same seed and
 * scale give the same trust, byte for byte. Haven and every peer engine load this one fixture.
 *
 * At scale 1: 50 schools in 5 school groups, 100,000 students, 5,000 staff, 1,000 user groups,
 * 200 external partners with direct links, 500 blocks, and an "All staff" group of 1,000,000.
 */

export type Role = 'owner' | 'dsl' | 'deputy_dsl' | 'admin' | 'viewer';
export type Sen = 'none' | 'K' | 'E';
export type ScopeRef =
  | { type: 'organisation' }
  | { type: 'school_group'; key: string }
  | { type: 'school'; key: string };
export type Rule =
  | { field: 'yearGroup'; op: 'eq'; value: number }
  | { field: 'yearGroup'; op: 'between'; value: [number, number] }
  | { field: 'house'; op: 'eq'; value: string }
  | { field: 'senStatus'; op: 'in'; value: Sen[] }
  | { field: 'flags'; op: 'has'; value: string }
  | { field: 'onRoll'; op: 'eq'; value: boolean }
  | { all: Rule[] };

export interface FixtureSchool {
  key: string;
  name: string;
  phase: 'primary' | 'secondary';
  hub: string;
}
export interface FixtureStudent {
  key: string;
  school: string;
  givenName: string;
  familyName: string;
  yearGroup: number;
  house: string;
  senStatus: Sen;
  flags: string[];
  upn: string;
}
export interface FixtureUser {
  key: string;
  name: string;
  email: string;
  /** staff work in a school; partners are external; pool accounts exist only in "All staff". */
  kind: 'staff' | 'partner' | 'pool';
  school: string | null;
}
export interface FixtureStudentGroup {
  key: string;
  name: string;
  school: string | null;
  kind: 'all' | 'rule' | 'manual';
  rule?: Rule;
  members?: string[];
  /** Groups Haven creates with each school; the loader finds them rather than making them. */
  system?: 'all_students' | 'former_students';
}
export interface FixtureUserGroup {
  key: string;
  name: string;
  school: string | null;
  members: string[];
  links: ({ studentGroup: string } | { student: string })[];
  clearances: ('child_protection' | 'allegations')[];
  system?: 'safeguarding_team';
}
export interface FixtureGrant {
  subject: { type: 'user' | 'user_group'; key: string };
  role: Role;
  scope: ScopeRef;
}
export interface Persona {
  name: string;
  user: string;
  /** The student asked about in check and explain. */
  student: string;
  /** A word to search for. */
  search: string;
}
export interface Fixture {
  seed: number;
  scale: number;
  organisationName: string;
  schoolGroups: { key: string; name: string }[];
  schools: FixtureSchool[];
  students: FixtureStudent[];
  users: FixtureUser[];
  studentGroups: FixtureStudentGroup[];
  userGroups: FixtureUserGroup[];
  grants: FixtureGrant[];
  directLinks: { user: string; student: string }[];
  blocks: { user: string; student: string; reason: string }[];
  personas: Persona[];
}

/** mulberry32: small, fast, and the same on every machine. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    chance: (p: number) => next() < p,
  };
}

const GIVEN =
  `Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Freya Willow Florence Emily Ella Poppy Evie Elsie Charlotte Evelyn Sienna Ruby Harper Sofia Daisy Alice Matilda Aria Phoebe Muhammad Noah Oliver George Arthur Leo Harry Oscar Archie Henry Theodore Freddie Jack Charlie Theo Alfie Jacob Thomas Finley Arlo William Lucas Roman Tommy Isaac Teddy Edward Adam Hugo Joshua Zara Amara Aisha Maryam Fatima Hana Yusuf Ibrahim Omar Ayaan Priya Anaya Arjun Rohan Kai Mateo Luca Nia Chloe Jessica Holly Megan Jasmine Layla Maisie Nathan Ethan Dylan Reuben Rory Callum Owen Lewis Finn Jude Ezra Hallie Imogen Tilly Esme Harriet Beatrice Clara Elodie Maya Nadia Kofi Kwame Ama Tobi Chidi Ngozi Seren Cerys Eilidh Niamh Aoife Ciara Tadhg Oisin Cormac Dara`.split(
    ' ',
  );
const FAMILY =
  `Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Robinson Wright Thompson Evans Walker White Roberts Green Hall Thomas Clarke Jackson Wood Harris Edwards Turner Martin Cooper Hill Ward Hughes Moore Clark King Harrison Lewis Baker Lee Allen Morris Khan Scott Watson Davis Parker James Bennett Young Phillips Richardson Mitchell Bailey Carter Cook Singh Shaw Bell Collins Morgan Kelly Begum Miller Cox Marshall Simpson Anderson Ellis Adams Wilkinson Foster Murphy Chapman Mason Gray Richards Webb Griffiths Hunt Palmer Campbell Holmes Mills Barnes Knight Lloyd Butler Russell Barker Fisher Stevens Jenkins Dixon Fletcher Howard Pearson Reid Ali Hussain Ahmed Rahman Okafor Mensah Nowak Kowalski Silva Santos Rossi Novak Murray Graham Kennedy Stewart Robertson Macdonald Fraser Hamilton Henderson Ross Paterson Burns Gordon Duncan Grant Hunter Ferguson Mclean Sutherland Byrne Ryan Doyle Walsh Quinn Brennan Nolan Hayes Lynch Moran Chen Wang Li Zhang Liu Nguyen Tran Kaur Gill Sandhu Sharma Joshi Mehta Desai Shah Chowdhury Islam Uddin Miah Akhtar Bibi Yilmaz Demir Kaya Popescu Ionescu Horvath Papadopoulos Ferreira Costa Pereira Oliveira Garcia Martinez Lopez Hernandez Perez Fernandez Gonzalez Sanchez Ramirez Torres Flores Rivera Gomez Diaz Morales Ortiz Jimenez Ruiz Alvarez Romero Navarro Dominguez Vazquez Blanco Castro Suarez Ortega Delgado Molina Marin Iglesias Rubio Medina Garrido Cortes Castillo Santiago`.split(
    ' ',
  );
const HOUSES = ['Ash', 'Beech', 'Cedar', 'Oak'];
const SCHOOL_WORDS =
  `Meadow River Hill Park Castle Brook Valley Forest Green Bridge Orchard Lake Moor Heath Field Grange Abbey Vale Ridge Wood Dale Marsh Cliff Bay Shore Glen Spring Stone Mill Ford`.split(
    ' ',
  );

/** School-group members per hub. */
const HUBS = ['North', 'South', 'East', 'West', 'Central'];

export interface FixtureOptions {
  seed?: number;
  /** 1 for the full trust; smaller for quick runs. */
  scale?: number;
}

export function generateFixture(options: FixtureOptions = {}): Fixture {
  const seed = options.seed ?? 20261123;
  const scale = options.scale ?? 1;
  const r = prng(seed);
  const schoolCount = Math.max(5, Math.round(50 * scale));
  const studentCount = Math.round(100_000 * scale);
  const staffCount = Math.max(schoolCount * 10, Math.round(5000 * scale));
  const partnerCount = Math.max(5, Math.round(200 * scale));
  const blockCount = Math.max(10, Math.round(500 * scale));
  const allStaffSize = Math.max(staffCount, Math.round(1_000_000 * scale));

  const schoolGroups = HUBS.map((hub, i) => ({ key: `hub-${i + 1}`, name: `${hub} Hub` }));
  const schools: FixtureSchool[] = [];
  for (let i = 0; i < schoolCount; i++) {
    // Roughly two secondaries for every primary, as in a secondary-led trust.
    const phase = i % 3 === 2 ? 'primary' : 'secondary';
    const word = SCHOOL_WORDS[i % SCHOOL_WORDS.length]!;
    const name = `${word} ${phase === 'primary' ? 'Primary' : 'Academy'}${i >= SCHOOL_WORDS.length ? ` ${Math.floor(i / SCHOOL_WORDS.length) + 1}` : ''}`;
    schools.push({
      key: `school-${String(i + 1).padStart(2, '0')}`,
      name,
      phase,
      hub: schoolGroups[i % HUBS.length]!.key,
    });
  }
  // Primaries are smaller: a quarter of a secondary's roll.
  const weights = schools.map((s) => (s.phase === 'primary' ? 1 : 4));
  const totalWeight = weights.reduce((a, b) => a + b, 0);

  const students: FixtureStudent[] = [];
  const names = new Set<string>();
  let n = 0;
  schools.forEach((school, index) => {
    const roll =
      index === schools.length - 1
        ? studentCount - n
        : Math.round((studentCount * weights[index]!) / totalWeight);
    for (let j = 0; j < roll; j++) {
      n += 1;
      // Secondary: years 7-11 full, the sixth form (12, 13) about half size. Primary: reception to 6.
      const yearGroup =
        school.phase === 'primary' ? r.int(0, 6) : r.chance(0.85) ? r.int(7, 11) : r.int(12, 13);
      let givenName: string;
      let familyName: string;
      do {
        givenName = r.pick(GIVEN);
        familyName = r.pick(FAMILY);
        if (names.has(`${familyName} ${givenName}`)) familyName = `${familyName}-${r.pick(FAMILY)}`;
      } while (names.has(`${familyName} ${givenName}`));
      names.add(`${familyName} ${givenName}`);
      const senRoll = r.next();
      const flags = [
        ...(r.chance(0.24) ? ['fsm'] : []),
        ...(r.chance(0.2) ? ['eal'] : []),
        ...(r.chance(0.01) ? ['looked_after'] : []),
        ...(r.chance(0.005) ? ['cp_plan'] : []),
        ...(r.chance(0.02) ? ['young_carer'] : []),
      ];
      students.push({
        key: `student-${String(n).padStart(6, '0')}`,
        school: school.key,
        givenName,
        familyName,
        yearGroup,
        house: r.pick(HOUSES),
        senStatus: senRoll < 0.04 ? 'E' : senRoll < 0.17 ? 'K' : 'none',
        flags,
        upn: `H${String(100_000_000_000 + n).slice(-11)}${String.fromCharCode(65 + (n % 26))}`,
      });
    }
  });

  const users: FixtureUser[] = [];
  const staffBySchool = new Map<string, FixtureUser[]>(schools.map((s) => [s.key, []]));
  for (let i = 0; i < staffCount; i++) {
    const school = schools[i % schools.length]!;
    const user: FixtureUser = {
      key: `staff-${String(i + 1).padStart(5, '0')}`,
      name: `${r.pick(GIVEN)} ${r.pick(FAMILY)}`,
      email: `staff${i + 1}@trust.bench`,
      kind: 'staff',
      school: school.key,
    };
    users.push(user);
    staffBySchool.get(school.key)!.push(user);
  }
  const partners: FixtureUser[] = [];
  for (let i = 0; i < partnerCount; i++) {
    const user: FixtureUser = {
      key: `partner-${String(i + 1).padStart(4, '0')}`,
      name: `${r.pick(GIVEN)} ${r.pick(FAMILY)} (social worker)`,
      email: `partner${i + 1}@agency.bench`,
      kind: 'partner',
      school: schools[i % schools.length]!.key,
    };
    users.push(user);
    partners.push(user);
  }
  const poolCount = allStaffSize - staffCount;
  for (let i = 0; i < poolCount; i++) {
    users.push({
      key: `pool-${String(i + 1).padStart(7, '0')}`,
      name: `Pool Account ${String(i + 1).padStart(7, '0')}`,
      email: `pool${i + 1}@trust.bench`,
      kind: 'pool',
      school: null,
    });
  }

  const grants: FixtureGrant[] = [];
  const studentGroups: FixtureStudentGroup[] = [];
  const userGroups: FixtureUserGroup[] = [];
  const studentsBySchool = new Map<string, FixtureStudent[]>(schools.map((s) => [s.key, []]));
  for (const s of students) studentsBySchool.get(s.school)!.push(s);

  for (const school of schools) {
    const staff = staffBySchool.get(school.key)!;
    const tag = school.key;
    const sg = (key: string, name: string, rule?: Rule, system?: FixtureStudentGroup['system']) => {
      const group: FixtureStudentGroup = {
        key: `${tag}/${key}`,
        name: `${name} (${school.name})`,
        school: school.key,
        kind: rule ? 'rule' : 'all',
        ...(rule ? { rule } : {}),
        ...(system ? { system } : {}),
      };
      studentGroups.push(group);
      return group.key;
    };
    const all = sg('all', 'All students', undefined, 'all_students');
    const former = sg(
      'former',
      'Former students',
      { field: 'onRoll', op: 'eq', value: false },
      'former_students',
    );
    const years = school.phase === 'primary' ? [0, 1, 2, 3, 4, 5, 6] : [7, 8, 9, 10, 11, 12, 13];
    const yearGroups = years.map((y) =>
      sg(`year-${y}`, y === 0 ? 'Reception' : `Year ${y}`, {
        field: 'yearGroup',
        op: 'eq',
        value: y,
      }),
    );
    const sen = sg('sen', 'SEN', { field: 'senStatus', op: 'in', value: ['K', 'E'] });
    const houses = HOUSES.map((h) =>
      sg(`house-${h}`, `${h} House`, { field: 'house', op: 'eq', value: h }),
    );
    const vulnerable = sg('vulnerable', 'Looked-after children', {
      field: 'flags',
      op: 'has',
      value: 'looked_after',
    });

    // Staff roles: most are Viewers; a DSL, two deputies and an Admin per school.
    staff.forEach((u, i) => {
      const role: Role = i === 0 ? 'dsl' : i <= 2 ? 'deputy_dsl' : i === 3 ? 'admin' : 'viewer';
      grants.push({
        subject: { type: 'user', key: u.key },
        role,
        scope: { type: 'school', key: school.key },
      });
    });
    const pick = (count: number, from: FixtureUser[]) => {
      const chosen = new Set<string>();
      while (chosen.size < Math.min(count, from.length)) chosen.add(r.pick(from).key);
      return [...chosen];
    };
    const ug = (
      key: string,
      name: string,
      members: string[],
      links: FixtureUserGroup['links'],
      extra: Partial<FixtureUserGroup> = {},
    ) => {
      userGroups.push({
        key: `${tag}/${key}`,
        name: `${name} (${school.name})`,
        school: school.key,
        members,
        links,
        clearances: [],
        ...extra,
      });
    };
    const leads = staff.slice(0, 3).map((u) => u.key);
    ug(
      'safeguarding',
      'Safeguarding Team',
      leads,
      [{ studentGroup: all }, { studentGroup: former }],
      {
        clearances: ['child_protection'],
        system: 'safeguarding_team',
      },
    );
    ug('slt', 'Senior Leadership Team', pick(6, staff), [{ studentGroup: all }]);
    ug('sen-team', 'SEN Team', pick(5, staff), [{ studentGroup: sen }]);
    ug('attendance', 'Attendance Team', pick(3, staff), [{ studentGroup: all }]);
    ug('wellbeing', 'Wellbeing Team', pick(4, staff), [
      { studentGroup: vulnerable },
      { studentGroup: sen },
    ]);
    years.forEach((y, i) => {
      ug(
        `pastoral-${y}`,
        `${y === 0 ? 'Reception' : `Year ${y}`} Pastoral Team`,
        pick(staff.length >= 40 ? 8 : 3, staff),
        [{ studentGroup: yearGroups[i]! }],
      );
    });
    HOUSES.forEach((h, i) => {
      ug(`house-${h}`, `${h} House Team`, pick(5, staff), [{ studentGroup: houses[i]! }]);
    });
    ug('exams', 'Exams Office', pick(2, staff), []);
    ug('behaviour', 'Behaviour Team', pick(4, staff), [{ studentGroup: all }]);
    ug('looked-after', 'Designated Teacher for Looked-after Children', pick(1, staff), [
      { studentGroup: vulnerable },
    ]);
  }

  // Trust-wide: everyone's students, a central safeguarding team, medical alerts for all staff.
  studentGroups.push({ key: 'trust/all', name: 'All students (trust)', school: null, kind: 'all' });
  const medical = students.filter(() => r.chance(0.002)).map((s) => s.key);
  const studentSchool = new Map(students.map((s) => [s.key, s.school]));
  studentGroups.push({
    key: 'trust/medical',
    name: 'Medical alerts',
    school: null,
    kind: 'manual',
    members: medical,
  });
  const central = schools.slice(0, 5).flatMap((s) =>
    staffBySchool
      .get(s.key)!
      .slice(4, 6)
      .map((u) => u.key),
  );
  userGroups.push({
    key: 'trust/central',
    name: 'Trust Safeguarding Team',
    school: null,
    members: central,
    links: [{ studentGroup: 'trust/all' }],
    clearances: ['child_protection'],
  });
  grants.push({
    subject: { type: 'user_group', key: 'trust/central' },
    role: 'dsl',
    scope: { type: 'organisation' },
  });
  // Hub leads see their hub's schools through a school-group grant.
  schoolGroups.forEach((hub, i) => {
    const lead = staffBySchool.get(schools[i % schools.length]!.key)![6];
    if (lead)
      grants.push({
        subject: { type: 'user', key: lead.key },
        role: 'viewer',
        scope: { type: 'school_group', key: hub.key },
      });
  });
  userGroups.push({
    key: 'trust/all-staff',
    name: 'All staff',
    school: null,
    members: users.filter((u) => u.kind !== 'partner').map((u) => u.key),
    links: [{ studentGroup: 'trust/medical' }],
    clearances: [],
  });
  // External agencies: one partner group per few schools, up to the 1,000-group limit.
  const room = 1000 - userGroups.length;
  for (let i = 0; i < Math.min(room, Math.ceil(partners.length / 4)); i++) {
    const members = partners.slice(i * 4, i * 4 + 4);
    const school = members[0]!.school!;
    userGroups.push({
      key: `agency-${i + 1}`,
      name: `Social care team ${i + 1}`,
      school,
      members: members.map((m) => m.key),
      links: [],
      clearances: [],
    });
  }

  const directLinks: Fixture['directLinks'] = [];
  for (const partner of partners) {
    grants.push({
      subject: { type: 'user', key: partner.key },
      role: 'viewer',
      scope: { type: 'school', key: partner.school! },
    });
    const pool = studentsBySchool.get(partner.school!)!;
    const count = r.int(1, 10);
    const chosen = new Set<string>();
    while (chosen.size < Math.min(count, pool.length)) chosen.add(r.pick(pool).key);
    for (const student of chosen) directLinks.push({ user: partner.key, student });
  }

  // Blocks: staff who are parents or relatives of a child at their own school.
  const blocks: Fixture['blocks'] = [];
  const blocked = new Set<string>();
  const staffUsers = users.filter((u) => u.kind === 'staff');
  while (blocks.length < blockCount) {
    const user = r.pick(staffUsers);
    const student = r.pick(studentsBySchool.get(user.school!)!);
    const key = `${user.key}:${student.key}`;
    if (blocked.has(key)) continue;
    blocked.add(key);
    blocks.push({
      user: user.key,
      student: student.key,
      reason: r.pick([
        'parent of the child',
        'relative of the child',
        'allegation of unfair treatment',
      ]),
    });
  }

  // Personas: who the benchmark asks as.
  const secondary = schools.find((s) => s.phase === 'secondary')!;
  const groupOf = (key: string) => userGroups.find((g) => g.key === key)!;
  const year9 = studentGroupMembersOf(
    { schools, students, studentGroups } as Fixture,
    `${secondary.key}/year-9`,
  );
  const year9Team = groupOf(`${secondary.key}/pastoral-9`);
  const formTutor =
    year9Team.members.find(
      (m) =>
        !userGroups.some(
          (g) => g !== year9Team && g.key !== 'trust/all-staff' && g.members.includes(m),
        ),
    ) ?? year9Team.members[0]!;
  const headOfYear = year9Team.members.find((m) => m !== formTutor) ?? formTutor;
  const dsl = staffBySchool.get(secondary.key)![0]!.key;
  const blockedDsl = staffBySchool.get(schools[1]!.key)![0]!.key;
  const blockedStudent = studentsBySchool.get(schools[1]!.key)![0]!.key;
  if (!blocked.has(`${blockedDsl}:${blockedStudent}`)) {
    blocks.push({ user: blockedDsl, student: blockedStudent, reason: 'parent of the child' });
  }
  const inTeams = new Set(
    userGroups.filter((g) => g.key !== 'trust/all-staff').flatMap((g) => g.members),
  );
  const bigMember =
    staffUsers.find(
      (u) => !inTeams.has(u.key) && medical.some((m) => studentSchool.get(m) === u.school),
    ) ??
    staffUsers.find((u) => !inTeams.has(u.key)) ??
    staffUsers[staffUsers.length - 1]!;
  const bigMemberStudent =
    medical.find((m) => studentSchool.get(m) === bigMember.school) ??
    medical[0] ??
    students[0]!.key;
  const partnerLinks = directLinks.filter((l) => l.user === partners[0]!.key);
  const personas: Persona[] = [
    { name: 'form tutor', user: formTutor, student: year9[0]!, search: 'smith' },
    { name: 'head of year', user: headOfYear, student: year9[1] ?? year9[0]!, search: 'ali' },
    {
      name: 'school DSL',
      user: dsl,
      student: studentsBySchool.get(secondary.key)![5]!.key,
      search: 'patel',
    },
    {
      name: 'trust safeguarding lead',
      user: central[0]!,
      student: students[students.length - 1]!.key,
      search: 'jones',
    },
    {
      name: 'external partner',
      user: partners[0]!.key,
      student: partnerLinks[0]!.student,
      search: 'a',
    },
    { name: 'member of All staff', user: bigMember.key, student: bigMemberStudent, search: 'khan' },
    { name: 'blocked from the child', user: blockedDsl, student: blockedStudent, search: 'taylor' },
  ];
  return {
    seed,
    scale,
    organisationName: 'Bench Learning Trust',
    schoolGroups,
    schools,
    students,
    users,
    studentGroups,
    userGroups,
    grants,
    directLinks,
    blocks,
    personas,
  };
}

function ruleHolds(rule: Rule, s: FixtureStudent): boolean {
  if ('all' in rule) return rule.all.every((x) => ruleHolds(x, s));
  switch (rule.field) {
    case 'yearGroup':
      return rule.op === 'eq'
        ? s.yearGroup === rule.value
        : s.yearGroup >= rule.value[0] && s.yearGroup <= rule.value[1];
    case 'house':
      return s.house === rule.value;
    case 'senStatus':
      return rule.value.includes(s.senStatus);
    case 'flags':
      return s.flags.includes(rule.value);
    case 'onRoll':
      // Every fixture student is on roll.
      return rule.value === true;
  }
}

/** The students of one student group, worked out plainly from the fixture (for the peers). */
export function studentGroupMembersOf(
  fixture: Pick<Fixture, 'students' | 'studentGroups'> & Partial<Fixture>,
  groupKey: string,
): string[] {
  const group = fixture.studentGroups.find((g) => g.key === groupKey);
  if (!group) throw new Error(`no student group ${groupKey}`);
  if (group.kind === 'manual') return group.members ?? [];
  return fixture.students
    .filter(
      (s) =>
        (group.school === null || s.school === group.school) &&
        (group.kind === 'all' || ruleHolds(group.rule!, s)),
    )
    .map((s) => s.key);
}

/** Every student group's members, computed once. */
export function allStudentGroupMembers(fixture: Fixture): Map<string, string[]> {
  return new Map(fixture.studentGroups.map((g) => [g.key, studentGroupMembersOf(fixture, g.key)]));
}

/** Haven's name key (lower case, accents folded), which every engine sorts and searches by. */
export function sortKey(s: FixtureStudent): [string, string] {
  return [s.familyName.toLowerCase(), s.givenName.toLowerCase()];
}
