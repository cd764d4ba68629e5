// Sign-up, sign-in and the web session. Programs use API keys (Bearer); the web app uses an HttpOnly
// session cookie plus the CSRF token returned here, sent back as `X-CSRF-Token` on every state change.
import { Type, type Static } from 'typebox';
import { AccessStage, DatasetConsent, Occupation, User } from './accounts.js';

export const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254 });
export const Password = Type.String({
  minLength: 10,
  maxLength: 256,
  description: 'At least 10 characters.',
});
const Token = Type.String({ minLength: 20, maxLength: 200 });

export const SignUpBody = Type.Object(
  {
    email: Email,
    password: Password,
    displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
    affiliation: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    occupation: Type.Optional(Occupation),
    intendedUse: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
  },
  {
    additionalProperties: false,
    description: 'In the research stage displayName, affiliation, occupation and intendedUse are required.',
  },
);
export type SignUpBody = Static<typeof SignUpBody>;

export const SignUpResult = Type.Object({
  user: User,
  stage: AccessStage,
  next: Type.String({ description: 'What happens next, in words.' }),
});
export type SignUpResult = Static<typeof SignUpResult>;

export const TokenBody = Type.Object({ token: Token }, { additionalProperties: false });
export type TokenBody = Static<typeof TokenBody>;

export const SignInBody = Type.Object(
  { email: Email, password: Type.String({ minLength: 1, maxLength: 256 }) },
  {
    additionalProperties: false,
  },
);
export type SignInBody = Static<typeof SignInBody>;

export const Session = Type.Object({
  user: User,
  csrfToken: Type.String({ description: 'Send as X-CSRF-Token with every state-changing request.' }),
  expiresAt: Type.String({ format: 'date-time' }),
  stage: AccessStage,
});
export type Session = Static<typeof Session>;

export const EmailBody = Type.Object({ email: Email }, { additionalProperties: false });
export type EmailBody = Static<typeof EmailBody>;

export const ResetPasswordBody = Type.Object(
  { token: Token, password: Password },
  { additionalProperties: false },
);
export type ResetPasswordBody = Static<typeof ResetPasswordBody>;

export const ChangePasswordBody = Type.Object(
  { currentPassword: Type.String({ minLength: 1, maxLength: 256 }), password: Password },
  { additionalProperties: false },
);
export type ChangePasswordBody = Static<typeof ChangePasswordBody>;

export const ChangeEmailBody = Type.Object(
  { email: Email, currentPassword: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false },
);
export type ChangeEmailBody = Static<typeof ChangeEmailBody>;

export const UpdateProfileBody = Type.Object(
  {
    displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
    datasetConsent: Type.Optional(DatasetConsent),
  },
  { additionalProperties: false },
);
export type UpdateProfileBody = Static<typeof UpdateProfileBody>;

export const DeleteAccountBody = Type.Object(
  {
    currentPassword: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    images: Type.Union([Type.Literal('keep_pseudonymous'), Type.Literal('withdraw')], {
      description:
        'keep_pseudonymous: my images stay in future releases under a pseudonym; withdraw: removed.',
    }),
  },
  { additionalProperties: false },
);
export type DeleteAccountBody = Static<typeof DeleteAccountBody>;

export const AccessStageInfo = Type.Object({
  stage: AccessStage,
  signUp: Type.String({ description: 'How sign-up works in this stage, in words.' }),
});
export type AccessStageInfo = Static<typeof AccessStageInfo>;

export const SetAccessStageBody = Type.Object({ stage: AccessStage }, { additionalProperties: false });
export type SetAccessStageBody = Static<typeof SetAccessStageBody>;

export const Application = Type.Object({
  user: User,
  affiliation: Type.Optional(Type.String()),
  occupation: Type.Optional(Occupation),
  intendedUse: Type.Optional(Type.String()),
});
export type Application = Static<typeof Application>;

export const ApplicationList = Type.Object({
  items: Type.Array(Application),
  nextCursor: Type.Optional(Type.String()),
});
export type ApplicationList = Static<typeof ApplicationList>;

export const ApplicationDecisionBody = Type.Object(
  {
    decision: Type.Union([Type.Literal('approve'), Type.Literal('reject')]),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
  },
  {
    additionalProperties: false,
    description: 'A rejection needs a reason; the applicant receives it by email.',
  },
);
export type ApplicationDecisionBody = Static<typeof ApplicationDecisionBody>;
