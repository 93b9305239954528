/**
 * The demo's articles. The first is our first user's article, verbatim from the seed
 * (shared/seed/000_98a14e9bd877e571.txt), which ends with the cookie-notice shortcode
 * `buttons=(Accept !) days=(20)` that the demo's banner uses.
 */
export interface Article {
  slug: string;
  section: string;
  title: string;
  dek: string;
  date: string;
  paragraphs: string[];
  /** A held video embed (marketing) below the text. */
  video?: boolean;
}

/** The seed's shortcode, exactly as the site publishes it. */
export const SEED_SHORTCODE = 'buttons=(Accept !) days=(20)';

export const ARTICLES: Article[] = [
  {
    slug: 'trump-maduro-call',
    section: 'World',
    title: 'According to a report, Trump and Maduro talked about a potential meeting last week',
    dek: 'No concrete plans or dates have been set, according to The New York Times.',
    date: '2026-11-24',
    paragraphs: [
      'US President Donald Trump reportedly held a phone call last week with Venezuelan leader Nicolás Maduro in which the two discussed the possibility of meeting in the United States, according to The New York Times, which cited several people familiar with the exchange. No concrete plans or dates have been set, but such a meeting would be historic — no sitting US president has ever met with Maduro, whom Washington has long labeled an illegitimate dictator and accused of leading a vast narco-trafficking network, charges Caracas rejects.',
      'The call occurred at a moment of sharply rising tensions, with the Trump administration intensifying military pressure on Venezuela while simultaneously keeping open a potential diplomatic pathway. Since early September, US forces have been bombing boats in the Caribbean and Latin America suspected of trafficking drugs, a campaign critics describe as extrajudicial killings. Trump has also publicly hinted that strikes on Venezuelan territory could follow, telling reporters that moving from maritime to land operations “is going to start very soon.”',
      'Even as the administration heightens pressure, the conversation suggests that Washington may be considering an off-ramp to avoid deeper conflict. Officials have stressed, however, that any diplomatic solution must include Maduro stepping down. Meanwhile, the US recently designated the so-called Cartel of the Suns — which the administration claims is composed of senior Venezuelan military leaders and overseen by Maduro — as a foreign terrorist organization. Defense Secretary Pete Hegseth said the move grants the Pentagon “a whole bunch of new options,” though he did not specify what actions might follow.',
      'Maduro, now in his third term, was declared winner of the 2024 presidential election by loyalists despite credible evidence that the opposition candidate prevailed by a large margin. Domestic and international watchdogs have accused his government of systematic human rights abuses and a sustained crackdown on dissent, particularly after the disputed vote.',
      'Neither the White House nor Venezuela’s communications ministry has issued a formal response to the report or confirmed details of the phone call.',
    ],
  },
  {
    slug: 'city-library-late-opening',
    section: 'Local',
    title: 'City library to stay open until 10 p.m. on weekdays from January',
    dek: 'A pilot funded for one year; the council will review visitor numbers in the autumn.',
    date: '2026-11-23',
    paragraphs: [
      'The central library will extend its weekday opening hours to 10 p.m. from the first week of January, the city council announced on Monday, in a one-year pilot aimed at students and shift workers.',
      "The extra hours will be staffed by two additional librarians and paid for from the council's culture budget. Study rooms can be booked online; the reading room stays open without booking.",
      'Council members said they would review visitor numbers in the autumn before deciding whether to make the change permanent.',
    ],
    video: true,
  },
  {
    slug: 'rail-timetable-winter',
    section: 'Transport',
    title: 'Winter rail timetable adds early trains on the coastal line',
    dek: 'The first train now leaves at 5:12 a.m.; weekend services are unchanged.',
    date: '2026-11-22',
    paragraphs: [
      "The regional operator's winter timetable, which takes effect on 14 December, adds two early departures on the coastal line and extends the evening half-hourly service by an hour.",
      'Weekend services are unchanged. The operator said engineering work on the viaduct would close the line on two Sundays in February, with replacement buses running.',
    ],
  },
];
