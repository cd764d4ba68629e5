// Words for the protocol's codes.
import type { Occupation, Sampler } from '@dreamfold/protocol';

export const OCCUPATION_LABELS: Record<Occupation, string> = {
  researcher: 'Researcher',
  ml_engineer: 'Machine-learning engineer',
  journalist: 'Journalist',
  educator: 'Educator',
  decision_maker: 'Decision-maker (policy, management)',
  other: 'Other',
};

export const SAMPLER_LABELS: Record<Sampler, string> = {
  euler: 'Euler',
  euler_a: 'Euler ancestral',
  dpmpp_2m_karras: 'DPM++ 2M Karras',
  ddim: 'DDIM',
  lcm: 'LCM (few steps)',
};

export const REPORT_REASON_LABELS = {
  nsfw: 'Sexual or graphic content',
  offensive: 'Hateful, harassing or offensive',
  illegal: 'Possibly illegal',
  copyright: 'Copies someone’s work',
  broken: 'Broken or blank image',
  other: 'Something else',
} as const;
