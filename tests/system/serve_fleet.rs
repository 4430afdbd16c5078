//! Several `ridge serve` instances on one database, as behind a load balancer: what one stores the
//! other lists, their aggregates agree, and the same upload through both at once is stored once.
//! Runs on SQLite here (two instances on one file of one machine) and on PostgreSQL through
//! `pg::the_service_tests_pass_on_postgresql`, which is what several machines would share.

use std::sync::Mutex;

use serde_json::Value;

use crate::serve::{TOKEN, dir, get, get_json, options, post, run_doc, start};

#[test]
fn two_instances_on_one_database_answer_alike() {
    let d = dir("two-instances");
    let a = start(&options(&d));
    let b = start(&options(&d));
    let urls = [a.url(), b.url()];
    // Three devices; 30 distinct runs split across the instances, and 10 runs each sent through
    // both instances at the same moment.
    let answers: Mutex<Vec<(usize, u16, i64)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for n in 0..30u32 {
            let (urls, answers) = (&urls, &answers);
            s.spawn(move || {
                let doc = run_doc(n, 1.0 + f64::from(n % 3), Some(&format!("Fleet GPU {}", n % 3)));
                let (status, body) = post(&urls[(n % 2) as usize], Some(TOKEN), &doc);
                answers.lock().unwrap_or_else(|e| e.into_inner()).push((
                    n as usize,
                    status,
                    body["id"].as_i64().unwrap_or(-1),
                ));
            });
        }
        for n in 100..110u32 {
            for url in &urls {
                let answers = &answers;
                s.spawn(move || {
                    let doc = run_doc(n, 1.0, Some("Fleet GPU 0"));
                    let (status, body) = post(url, Some(TOKEN), &doc);
                    answers.lock().unwrap_or_else(|e| e.into_inner()).push((
                        n as usize,
                        status,
                        body["id"].as_i64().unwrap_or(-1),
                    ));
                });
            }
        }
    });
    let answers = answers.into_inner().unwrap_or_else(|e| e.into_inner());
    for n in 100..110 {
        let both: Vec<&(usize, u16, i64)> = answers.iter().filter(|x| x.0 == n).collect();
        let mut statuses: Vec<u16> = both.iter().map(|x| x.1).collect();
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 201], "run {n} through both instances at once");
        assert_eq!(both[0].2, both[1].2, "run {n} got two ids");
    }
    assert!(answers.iter().filter(|x| x.0 < 30).all(|x| x.1 == 201), "{answers:?}");

    // Each instance lists all 40, the same way, and serves each run byte for byte.
    let listed: Vec<Value> = urls.iter().map(|u| get_json(u, "/api/v1/runs?limit=500")).collect();
    assert_eq!(listed[0]["runs"].as_array().map_or(0, Vec::len), 40);
    assert_eq!(listed[0], listed[1], "the instances list different runs");
    for &(n, _, id) in answers.iter().filter(|x| x.0 < 30) {
        let (sa, ta) = get(&urls[0], &format!("/api/v1/runs/{id}"), None);
        let (sb, tb) = get(&urls[1], &format!("/api/v1/runs/{id}"), None);
        assert_eq!((sa, sb), (200, 200), "run {n} (id {id})");
        assert_eq!(ta, tb);
    }
    // The same devices with the same aggregates.
    let devices: Vec<Value> = urls.iter().map(|u| get_json(u, "/api/v1/devices")).collect();
    assert_eq!(devices[0]["devices"].as_array().map_or(0, Vec::len), 3);
    assert_eq!(devices[0], devices[1], "the instances aggregate differently");
    let fleet0 = devices[0]["devices"].as_array().and_then(|d| d.iter().find(|x| x["name"] == "Fleet GPU 0").cloned());
    assert_eq!(fleet0.map(|x| x["runs"].clone()), Some(Value::from(20)));
    a.stop().unwrap_or_else(|e| panic!("{e}"));
    b.stop().unwrap_or_else(|e| panic!("{e}"));
}
