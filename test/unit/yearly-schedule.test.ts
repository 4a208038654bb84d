import { yearlySchedule } from '../../lib/private/yearly-schedule';

describe('the yearly schedule', () => {
  test.each([
    ['UTC', { minute: '0', hour: '0', day: '1', month: 'JAN' }],
    ['Europe/Berlin', { minute: '0', hour: '23', day: '31', month: 'DEC' }],
    ['Asia/Kolkata', { minute: '30', hour: '18', day: '31', month: 'DEC' }],
    ['America/Los_Angeles', { minute: '0', hour: '8', day: '1', month: 'JAN' }],
    ['Pacific/Kiritimati', { minute: '0', hour: '10', day: '31', month: 'DEC' }],
  ])('fires at local midnight of 1 January in %s', (zone, cron) => {
    expect(yearlySchedule(zone)).toEqual(cron);
  });
});
