def declare_queues():
    queues = Queues({
        "vote_comment_q": MessageQueue(bind_to_self=True),
        "newcomments_q": MessageQueue()
    })

    # 然后通过 << 过载操作符将路由键注册到队列的绑定中
    queues.vote_comment_q << ("vote_comment_q_test",)
    queues.newcomments_q << ("new_link", "link_text_edited")

    return queues
