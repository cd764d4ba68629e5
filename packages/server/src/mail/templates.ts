// The words of every mail the platform sends, in one place. Links point at the web app's pages.
import type { Mail } from './mailer.js';

const sign = '\n\n— Dreamfold, the open text-to-image platform';

export const mails = {
  verifyEmail: (to: string, link: string, hours: number): Mail => ({
    to,
    subject: 'Confirm your email for Dreamfold',
    text: `Open this link to confirm your email address:\n\n${link}\n\nThe link works for ${hours} hours. If you did not sign up, ignore this mail.${sign}`,
  }),
  confirmNewEmail: (to: string, link: string, hours: number): Mail => ({
    to,
    subject: 'Confirm your new email for Dreamfold',
    text: `Open this link to make this your account's email address:\n\n${link}\n\nThe link works for ${hours} hours. If you did not ask for this, ignore this mail.${sign}`,
  }),
  emailChangeRequested: (to: string, newEmail: string): Mail => ({
    to,
    subject: 'Your Dreamfold email is being changed',
    text: `Someone signed in to your account asked to change its email to ${newEmail}. It changes once that address is confirmed. If this was not you, reset your password now.${sign}`,
  }),
  resetPassword: (to: string, link: string, minutes: number): Mail => ({
    to,
    subject: 'Reset your Dreamfold password',
    text: `Open this link to choose a new password:\n\n${link}\n\nThe link works for ${minutes} minutes and once. If you did not ask for this, ignore this mail: your password is unchanged.${sign}`,
  }),
  applicationReceived: (to: string): Mail => ({
    to,
    subject: 'Your Dreamfold research access application',
    text: `Thank you: your email is confirmed and your application is with our moderators. You will get a mail when they decide.${sign}`,
  }),
  applicationApproved: (to: string, link: string): Mail => ({
    to,
    subject: 'Your Dreamfold research access is approved',
    text: `Your application was approved: you can generate images now.\n\n${link}${sign}`,
  }),
  applicationRejected: (to: string, reason: string): Mail => ({
    to,
    subject: 'Your Dreamfold research access application',
    text: `Your application was not approved. The moderator's reason:\n\n${reason}\n\nYou may reply to this mail if you think this is a mistake.${sign}`,
  }),
  workerReinstated: (to: string, worker: string, reason: string, link: string): Mail => ({
    to,
    subject: `Your Dreamfold worker "${worker}" is reinstated`,
    text: `A moderator lifted the suspension of your worker "${worker}". Their reason:\n\n${reason}\n\nIt is on probation: every result it makes is checked by another worker until it has a verified record again, and a few bad results suspend it again. A suspended worker stops, so start it again (same command, same key) if you want it to donate. Its standing and the history of its states are under My workers: ${link}${sign}`,
  }),
  accountDeleted: (to: string, images: 'keep_pseudonymous' | 'withdraw'): Mail => ({
    to,
    subject: 'Your Dreamfold account is deleted',
    text: `Your account and its personal data are deleted. ${
      images === 'withdraw'
        ? 'Your images are withdrawn: they leave the gallery and will not appear in future dataset releases.'
        : 'As you chose, your images stay in future dataset releases under a pseudonym.'
    }${sign}`,
  }),
};
