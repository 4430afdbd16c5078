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

#[test]
fn a_device_history_marks_the_change_and_the_odd_run() {
    let d = dir("history");
    let server = start(&options(&d));
    let url = server.url();
    // 30 runs, one a minute: ±1% of noise, 15% slower from the 21st (a driver update), and the
    // 8th at half speed (a throttled node).
    const WIGGLE: [f64; 5] = [0.0, 0.01, -0.008, 0.004, -0.01];
    let mut ids = Vec::new();
    for n in 0..30u32 {
        let level = if n >= 20 { 0.85 } else { 1.0 };
        let scale = if n == 7 { 0.5 } else { level * (1.0 + WIGGLE[n as usize % 5]) };
        let (status, body) = post(&url, Some(TOKEN), &run_doc(60 * n, scale, Some("History GPU")));
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].as_i64().unwrap_or(-1));
    }
    let key = get_json(&url, "/api/v1/devices")["devices"][0]["key"].as_str().unwrap_or_default().to_string();
    let h = get_json(&url, &format!("/api/v1/devices/{key}/history"));
    assert_eq!(h["runs"], 30);
    let memory = h["ceilings"].as_array().and_then(|c| c.iter().find(|x| x["ceiling"] == "memory_gb_per_s").cloned());
    let memory = memory.unwrap_or_else(|| panic!("no memory history: {h}"));
    let points = memory["points"].as_array().cloned().unwrap_or_default();
    assert_eq!(points.len(), 30);
    let run_ids: Vec<i64> = points.iter().map(|p| p["run"].as_i64().unwrap_or(-1)).collect();
    assert_eq!(run_ids, ids, "points are not in the runs' time order");
    let odd: Vec<i64> =
        points.iter().filter(|p| p["outlier"] == true).map(|p| p["run"].as_i64().unwrap_or(-1)).collect();
    assert_eq!(odd, [ids[7]]);
    let changes = memory["changes"].as_array().cloned().unwrap_or_default();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["run"], ids[20]);
    let pct = changes[0]["change_pct"].as_f64().unwrap_or(0.0);
    assert!((pct + 15.0).abs() < 1.5, "{pct}%");
    // The latest 10 only: the change is outside them.
    let h = get_json(&url, &format!("/api/v1/devices/{key}/history?limit=10"));
    assert_eq!(h["runs"], 10);
    assert_eq!(get(&url, "/api/v1/devices/0123456789abcdef/history", None).0, 404);
    assert_eq!(get(&url, &format!("/api/v1/devices/{key}/history?limit=0"), None).0, 400);
    server.stop().unwrap_or_else(|e| panic!("{e}"));
}

/// PostgreSQL only (the child run of `pg::the_service_tests_pass_on_postgresql`): an upload that
/// the server breaks off in a lock cycle, twice, is tried again, and the client sees it stored
/// once. A second connection holds the device's row, lets the upload wait on it, then asks for a
/// lock the upload holds; with the server's deadlock check slower on that connection, the upload
/// is the one broken off. The first break fails the writer's group (whose uploads are then tried
/// one by one); the second, the upload's own transaction. The server checks a waiting
/// transaction for a cycle once, `deadlock_timeout` after it began to wait: the service's
/// sessions get 3 s (PostgreSQL's default is 1 s), time for this test to close the cycle on a
/// loaded machine.
#[test]
fn an_upload_broken_off_in_lock_cycles_is_tried_again() {
    let Some(base) = crate::pg::base_url() else {
        return; // SQLite has one writer and no lock cycles
    };
    let d = dir("lock-cycle");
    crate::pg::execute(
        &crate::serve::database(&d),
        "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET deadlock_timeout = %L', current_database(), '3s'); END $$",
    );
    let server = start(&options(&d));
    let url = server.url();
    let (status, body) = post(&url, Some(TOKEN), &run_doc(1, 1.0, Some("Cycle GPU")));
    assert_eq!(status, 201, "{body}");

    let db_url = match crate::pg::database_for(&base, &d) {
        ridge_bench::serve::Database::Postgres(u) => u,
        other => panic!("{other:?}"),
    };
    let connect = || postgres::Client::connect(&db_url, postgres::NoTls).unwrap_or_else(|e| panic!("{e}"));
    let (mut other, mut watch) = (connect(), connect());
    // The device's row, locked as an update of its counts would lock it.
    other
        .batch_execute("SET deadlock_timeout = '60s'; BEGIN; SELECT key FROM devices FOR NO KEY UPDATE")
        .unwrap_or_else(|e| panic!("{e}"));
    let mut wait_for_the_upload = || {
        for _ in 0..500 {
            let waiting: i64 = watch
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity
                     WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE devices%'",
                    &[],
                )
                .map(|r| r.get(0))
                .unwrap_or_else(|e| panic!("{e}"));
            if waiting > 0 {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("the upload never waited on the device's row");
    };
    let (status, body, locks) = std::thread::scope(|s| {
        let upload = s.spawn(|| post(&url, Some(TOKEN), &run_doc(2, 1.0, Some("Cycle GPU"))));
        let mut locks = Vec::new();
        for _ in 0..2 {
            wait_for_the_upload();
            // The cycle: this connection now waits on the upload's insert into `runs`. The
            // savepoint lets the table lock go and keeps the row's.
            locks.push(other.batch_execute("SAVEPOINT s; LOCK TABLE runs IN SHARE MODE; ROLLBACK TO SAVEPOINT s"));
        }
        other.batch_execute("ROLLBACK").unwrap_or_else(|e| panic!("{e}"));
        let (status, body) = upload.join().unwrap_or_else(|_| panic!("the upload panicked"));
        (status, body, locks)
    });
    // The server broke the upload's transactions off, not this connection's...
    assert!(locks.iter().all(Result::is_ok), "the other connection was broken off instead: {locks:?}");
    // ...and the upload, tried again, was stored once.
    assert_eq!(status, 201, "{body}");
    let runs = get_json(&url, "/api/v1/runs")["runs"].as_array().map_or(0, Vec::len);
    assert_eq!(runs, 2);
    let devices = get_json(&url, "/api/v1/devices");
    assert_eq!(devices["devices"][0]["runs"], 2, "{devices}");
    server.stop().unwrap_or_else(|e| panic!("{e}"));
}
