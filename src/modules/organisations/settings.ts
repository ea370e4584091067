import { z } from 'zod';

/**
 * A school's settings, kept as JSON in `schools.settings`. A key that is missing (a school made
 * before the setting existed) or unreadable takes its default, so every reader agrees on it.
 */
export interface SchoolSettings {
  /** Reading child-protection and allegation records needs a recent TOTP step-up. */
  requireMfaForSensitive: boolean;
  /** Whoever holds a clearance, or Deputy DSL or higher, here must enrol two-factor sign-in. */
  requireMfaEnrolment: boolean;
  /** When the day's digest email goes out: "HH:MM", 24-hour, Europe/London local time. */
  digestTime: string;
  /**
   * Years a record that is neither child protection nor an allegation is kept from its date
   * (`src/modules/retention/rules.ts`). Six by default: the Limitation Act 1980's period for
   * most civil claims, after which an ordinary concern is no longer needed in evidence.
   */
  retentionYears: number;
}

export const defaultSchoolSettings: Readonly<SchoolSettings> = {
  requireMfaForSensitive: true,
  requireMfaEnrolment: true,
  digestTime: '16:00',
  retentionYears: 6,
};

/** Whole years, one to a hundred. */
export const retentionYears = z.number().int().min(1).max(100);

/** "HH:MM" on a 24-hour clock, 00:00 to 23:59. */
export const digestTime = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a 24-hour time "HH:MM" (Europe/London)');

/**
 * Settings already read, by their stored text: every authenticated request asks each school of
 * the organisation whether it wants two-factor enrolment, and the text rarely changes. Bounded;
 * emptied when full, as the next requests refill it.
 */
const readSettings = new Map<string, Readonly<SchoolSettings>>();
const READ_SETTINGS_KEPT = 500;

/** The settings of a school from its stored JSON, each with its default where unset. */
export function schoolSettings(settingsJson: string): SchoolSettings {
  let read = readSettings.get(settingsJson);
  if (!read) {
    read = Object.freeze(readSchoolSettings(settingsJson));
    if (readSettings.size >= READ_SETTINGS_KEPT) readSettings.clear();
    readSettings.set(settingsJson, read);
  }
  // A copy: callers own what they are given.
  return { ...read };
}

function readSchoolSettings(settingsJson: string): SchoolSettings {
  let stored: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(settingsJson);
    if (parsed && typeof parsed === 'object') stored = parsed as Record<string, unknown>;
  } catch {
    // An unreadable value falls back to the defaults, which are the safer ones.
  }
  const flag = (key: 'requireMfaForSensitive' | 'requireMfaEnrolment') => {
    const value = stored[key];
    return typeof value === 'boolean' ? value : defaultSchoolSettings[key];
  };
  return {
    requireMfaForSensitive: flag('requireMfaForSensitive'),
    requireMfaEnrolment: flag('requireMfaEnrolment'),
    digestTime: digestTime.safeParse(stored.digestTime).data ?? defaultSchoolSettings.digestTime,
    retentionYears:
      retentionYears.safeParse(stored.retentionYears).data ?? defaultSchoolSettings.retentionYears,
  };
}

export const schoolSettingsSchema = z.object({
  requireMfaForSensitive: z.boolean(),
  requireMfaEnrolment: z.boolean(),
  digestTime: z.string(),
  retentionYears: z.number(),
});

/** `PATCH /schools/:id/settings`: any of the settings, at least one. */
export const schoolSettingsPatch = z
  .object({
    requireMfaForSensitive: z.boolean().optional(),
    requireMfaEnrolment: z.boolean().optional(),
    digestTime: digestTime.optional(),
    retentionYears: retentionYears.optional(),
  })
  .strict()
  .refine((b) => Object.values(b).some((v) => v !== undefined), {
    message: 'Change at least one setting',
  });
export type SchoolSettingsPatch = z.infer<typeof schoolSettingsPatch>;

/** The organisation's settings, kept as JSON in `organisations.settings`, read as a school's are. */
export interface OrganisationSettings {
  /**
   * The normal retirement age of its staff: an allegation is kept until its subject reaches it
   * (or ten years, whichever is later; `src/modules/retention/rules.ts`). 67 by default, the UK
   * state pension age.
   */
  retirementAge: number;
}

export const defaultOrganisationSettings: Readonly<OrganisationSettings> = {
  retirementAge: 67,
};

/** Whole years, 55 to 75: the span of normal retirement ages a school's staff may have. */
export const retirementAge = z.number().int().min(55).max(75);

/** The settings of an organisation from its stored JSON, each with its default where unset. */
export function organisationSettings(settingsJson: string): OrganisationSettings {
  let stored: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(settingsJson);
    if (parsed && typeof parsed === 'object') stored = parsed as Record<string, unknown>;
  } catch {
    // An unreadable value falls back to the defaults.
  }
  return {
    retirementAge:
      retirementAge.safeParse(stored.retirementAge).data ??
      defaultOrganisationSettings.retirementAge,
  };
}

export const organisationSettingsSchema = z.object({ retirementAge: z.number() });
